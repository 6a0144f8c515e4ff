from hub_sheets.testing import fake_google  # noqa: F401 - the fixture
