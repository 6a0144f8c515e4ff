from hub_twilio.testing import fake_twilio  # noqa: F401 - the fixture
