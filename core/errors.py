"""Refusals the engine gives people, each with a reason a person understands."""


class Refused(Exception):
    """An action was refused; `reason` is shown to the person who asked.

    `field` names the command's input that fixes the refusal (such as "confirm_no_file"), and `fix`
    says how in words. An adapter that has its own way of naming that input (a shell flag, a form's
    field) says it its own way instead of `fix`, from `field`: no adapter reads the words of `reason`.
    """

    def __init__(self, reason: str, *, field: str = "", fix: str = "") -> None:
        self.what, self.field, self.fix = reason, field, fix
        self.reason = f"{reason} {fix}" if fix else reason
        super().__init__(self.reason)


class NotFound(Refused):
    """The thing asked for does not exist in the asker's community."""


class Conflict(Exception):
    """Someone else changed the record first; the command is retried on fresh data."""
