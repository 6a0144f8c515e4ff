# The hub's shipped test kit: fixtures for the core's tests and every plugin's tests.
pytest_plugins = ["hub.testing"]
