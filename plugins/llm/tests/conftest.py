from hub_llm.testing import fake_llm  # noqa: F401 - the fixture
