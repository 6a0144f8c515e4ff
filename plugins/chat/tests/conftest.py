from hub_chat.testing import fake_discord, fake_slack, fake_teams  # noqa: F401 - the fixtures
