"""The sink plugin CONTRIBUTING.md walks through ("Walkthrough: a webhook sink")."""
