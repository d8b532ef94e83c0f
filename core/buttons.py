"""One encoding of "order + action" for every platform: Slack's value, Discord's custom_id (<= 100)."""

from dataclasses import dataclass

from core.lifecycle import Action

PREFIX = "gr1"
MAX_LENGTH = 100
_BY_CODE = {action.value: action for action in Action}


@dataclass(frozen=True, slots=True)
class Button:
    action: Action
    order_id: str
    arg: str = ""

    def encode(self) -> str:
        encoded = f"{PREFIX}:{self.action.value}:{self.order_id}" + (f":{self.arg}" if self.arg else "")
        if len(encoded) > MAX_LENGTH:
            raise ValueError(f"button id longer than {MAX_LENGTH} characters: {encoded!r}")
        return encoded


def decode(text: str) -> Button:
    """The button behind an id, or ValueError for anything gigroom did not make."""
    parts = text.split(":", 3)
    if len(parts) < 3 or parts[0] != PREFIX or parts[1] not in _BY_CODE or not parts[2].isalnum():
        raise ValueError(f"not a gigroom button: {text[:MAX_LENGTH]!r}")
    return Button(_BY_CODE[parts[1]], parts[2], parts[3] if len(parts) == 4 else "")
