"""What the store raises."""


class Duplicate(Exception):
    """A row that must be unique is already there (a retried webhook, say): the unit of work
    that hit it is rolled back."""
