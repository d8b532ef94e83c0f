"""Refusals the engine gives people, each with a reason a person understands."""


class Refused(Exception):
    """An action was refused; `reason` is shown to the person who asked."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotFound(Refused):
    """The thing asked for does not exist in the asker's community."""


class Conflict(Exception):
    """Someone else changed the record first; the command is retried on fresh data."""
