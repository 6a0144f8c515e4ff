from hub_housecall.testing import fake_housecall  # noqa: F401 - the fixture
