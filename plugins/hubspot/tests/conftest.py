from hub_hubspot.testing import fake_hubspot  # noqa: F401 - the fixture
