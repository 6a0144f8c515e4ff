from hub_jobber.testing import fake_jobber  # noqa: F401 - the fixture
