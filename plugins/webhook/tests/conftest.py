from hub_webhook.testing import fake_receiver  # noqa: F401 - the fixture
