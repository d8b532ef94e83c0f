"""Block Kit checks of the Slack stand-in: the limits Slack enforces on blocks, views and their elements.

Each check returns Slack's error lines, ``"[ERROR] <what> [json-pointer:/blocks/0/text/text]"``, which the
stand-in puts in ``response_metadata.messages`` of an ``invalid_blocks`` (messages) or ``invalid_arguments``
(views) answer. An empty list means Slack would accept the payload as far as these checks go.

Modelled: block and element types, the count limits (50 blocks in a message, 100 in a modal or Home tab, 25
elements in an actions block, 10 in a context block, 10 section fields, 100 select options, 5 overflow
options, 10 checkboxes or radio buttons), the text limits (section 3,000, field 2,000, header 150, button
75, option 75, placeholder 150, input label and hint 2,000, markdown block 12,000), ids (block_id up to 255
and unique in the surface, action_id up to 255 and unique in its block), button value 2,000 and url 3,000,
and for views the title, submit and close texts (24), callback_id (255), private_metadata (3,000),
external_id (255) and the submit button that input blocks need.

Not modelled: rich_text internals, confirm dialogs, dispatch_action configs, initial values matching the
options, image URL reachability, and the exact wording of every Slack message (the pointers are exact).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100

TEXT_TYPES = ("plain_text", "mrkdwn")
INPUT_ELEMENTS = frozenset(
    {
        "checkboxes", "datepicker", "datetimepicker", "email_text_input", "file_input", "multi_static_select",
        "multi_external_select", "multi_users_select", "multi_conversations_select", "multi_channels_select",
        "number_input", "plain_text_input", "radio_buttons", "rich_text_input", "static_select", "external_select",
        "users_select", "conversations_select", "channels_select", "timepicker", "url_text_input",
    }
)
INTERACTIVE_ELEMENTS = (INPUT_ELEMENTS - {"file_input", "rich_text_input"}) | {"button", "overflow", "workflow_button"}
SECTION_ACCESSORIES = INTERACTIVE_ELEMENTS | {"image"}
SELECTS_WITH_OPTIONS = frozenset({"static_select", "multi_static_select"})
CHOICE_LISTS = frozenset({"checkboxes", "radio_buttons"})


class Checker:
    """Collects Slack-style errors while walking one payload."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, pointer: str, what: str) -> None:
        self.errors.append(f"[ERROR] {what} [json-pointer:{pointer}]")

    def max_len(self, value: Any, limit: int, pointer: str) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.fail(pointer, "must be a string")
        elif len(value) > limit:
            self.fail(pointer, f"must be less than {limit + 1} characters")

    def text(self, obj: Any, pointer: str, limit: int, *, plain_only: bool = False, required: bool = True) -> None:
        """A text object: ``{"type": "plain_text" | "mrkdwn", "text": "..."}``, 1 to ``limit`` characters."""
        if obj is None:
            if required:
                self.fail(pointer, "missing required field")
            return
        if not isinstance(obj, dict):
            self.fail(pointer, "must be an object")
            return
        allowed = ("plain_text",) if plain_only else TEXT_TYPES
        if obj.get("type") not in allowed:
            self.fail(f"{pointer}/type", "must be a valid enum value")
            return
        text = obj.get("text")
        if not isinstance(text, str) or not text:
            self.fail(f"{pointer}/text", "must be more than 0 characters")
            return
        self.max_len(text, limit, f"{pointer}/text")

    def items(self, value: Any, pointer: str, *, most: int, least: int = 0) -> list[Any]:
        """A list of ``least`` to ``most`` items; gives back the list (empty when it is not one)."""
        if not isinstance(value, list):
            self.fail(pointer, "must be an array")
            return []
        if len(value) > most:
            self.fail(pointer, f"no more than {most} items allowed")
        elif len(value) < least:
            self.fail(pointer, f"must provide at least {least} items")
        return value

    # -- surfaces -------------------------------------------------------------------------------------------

    def blocks(self, blocks: Any, pointer: str, most: int) -> None:
        block_ids: set[str] = set()
        for index, block in enumerate(self.items(blocks, pointer, most=most)):
            self.block(block, f"{pointer}/{index}", block_ids)

    def block(self, block: Any, pointer: str, block_ids: set[str]) -> None:
        if not isinstance(block, dict):
            self.fail(pointer, "must be an object")
            return
        block_id = block.get("block_id")
        if block_id is not None:
            self.max_len(block_id, 255, f"{pointer}/block_id")
            if block_id in block_ids:
                self.fail(f"{pointer}/block_id", f"duplicate block_id: {block_id}")
            block_ids.add(str(block_id))
        check = BLOCK_CHECKS.get(str(block.get("type")))
        if check is None:
            self.fail(pointer, "failed to match all allowed schemas")
            return
        check(self, block, pointer)

    def view(self, view: Any, pointer: str, types: Collection[str]) -> None:
        if not isinstance(view, dict):
            self.fail(pointer, "must be an object")
            return
        kind = view.get("type")
        if kind not in types:
            self.fail(f"{pointer}/type", "must be a valid enum value")
            return
        if kind == "modal":
            self.text(view.get("title"), f"{pointer}/title", 24, plain_only=True)
            self.text(view.get("close"), f"{pointer}/close", 24, plain_only=True, required=False)
            self.text(view.get("submit"), f"{pointer}/submit", 24, plain_only=True, required=False)
            if view.get("submit") is None and _has_input_block(view.get("blocks")):
                self.fail(f"{pointer}/submit", "submit is required when an input block is within the blocks")
        self.max_len(view.get("callback_id"), 255, f"{pointer}/callback_id")
        self.max_len(view.get("private_metadata"), 3000, f"{pointer}/private_metadata")
        self.max_len(view.get("external_id"), 255, f"{pointer}/external_id")
        self.blocks(view.get("blocks"), f"{pointer}/blocks", VIEW_MAX_BLOCKS)

    # -- elements -------------------------------------------------------------------------------------------

    def element(self, element: Any, pointer: str, allowed: Collection[str]) -> str | None:
        """One block element; gives back its action_id."""
        if not isinstance(element, dict):
            self.fail(pointer, "must be an object")
            return None
        kind = element.get("type")
        if kind not in allowed:
            self.fail(f"{pointer}/type", "must be a valid enum value")
            return None
        action_id = element.get("action_id")
        self.max_len(action_id, 255, f"{pointer}/action_id")
        self.text(element.get("placeholder"), f"{pointer}/placeholder", 150, plain_only=True, required=False)
        check = ELEMENT_CHECKS.get(str(kind))
        if check is not None:
            check(self, element, pointer)
        return action_id if isinstance(action_id, str) else None

    def options(self, options: Any, pointer: str, *, most: int, text_limit: int = 75, plain_only: bool = True) -> None:
        for index, option in enumerate(self.items(options, pointer, most=most, least=1)):
            at = f"{pointer}/{index}"
            if not isinstance(option, dict):
                self.fail(at, "must be an object")
                continue
            self.text(option.get("text"), f"{at}/text", text_limit, plain_only=plain_only)
            value = option.get("value")
            if value is None:
                self.fail(f"{at}/value", "missing required field")
            self.max_len(value, 150, f"{at}/value")
            self.text(option.get("description"), f"{at}/description", 75, plain_only=plain_only, required=False)


def _has_input_block(blocks: Any) -> bool:
    return isinstance(blocks, list) and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)


# -- blocks ---------------------------------------------------------------------------------------------------


def _section(c: Checker, block: dict[str, Any], at: str) -> None:
    text, fields = block.get("text"), block.get("fields")
    if text is None and fields is None:
        c.fail(at, "must provide either text or fields")
    c.text(text, f"{at}/text", 3000, required=False)
    if fields is not None:
        for index, item in enumerate(c.items(fields, f"{at}/fields", most=10, least=1)):
            c.text(item, f"{at}/fields/{index}", 2000)
    if block.get("accessory") is not None:
        c.element(block["accessory"], f"{at}/accessory", SECTION_ACCESSORIES)


def _header(c: Checker, block: dict[str, Any], at: str) -> None:
    c.text(block.get("text"), f"{at}/text", 150, plain_only=True)


def _actions(c: Checker, block: dict[str, Any], at: str) -> None:
    action_ids: set[str] = set()
    for index, element in enumerate(c.items(block.get("elements"), f"{at}/elements", most=25, least=1)):
        pointer = f"{at}/elements/{index}"
        action_id = c.element(element, pointer, INTERACTIVE_ELEMENTS)
        if action_id is None:
            continue
        if action_id in action_ids:
            c.fail(f"{pointer}/action_id", f"duplicate action_id: {action_id}")
        action_ids.add(action_id)


def _context(c: Checker, block: dict[str, Any], at: str) -> None:
    for index, element in enumerate(c.items(block.get("elements"), f"{at}/elements", most=10, least=1)):
        pointer = f"{at}/elements/{index}"
        if isinstance(element, dict) and element.get("type") == "image":
            c.element(element, pointer, {"image"})
        else:
            c.text(element, pointer, 3000)


def _image(c: Checker, block: dict[str, Any], at: str) -> None:
    _image_source(c, block, at)
    c.text(block.get("title"), f"{at}/title", 2000, plain_only=True, required=False)


def _input(c: Checker, block: dict[str, Any], at: str) -> None:
    c.text(block.get("label"), f"{at}/label", 2000, plain_only=True)
    c.text(block.get("hint"), f"{at}/hint", 2000, plain_only=True, required=False)
    if block.get("element") is None:
        c.fail(f"{at}/element", "missing required field")
    else:
        c.element(block["element"], f"{at}/element", INPUT_ELEMENTS)


def _markdown(c: Checker, block: dict[str, Any], at: str) -> None:
    text = block.get("text")
    if not isinstance(text, str) or not text:
        c.fail(f"{at}/text", "must be more than 0 characters")
    c.max_len(text, 12000, f"{at}/text")


def _free(c: Checker, block: dict[str, Any], at: str) -> None:
    """Blocks whose insides the stand-in does not check (divider, rich_text, file, video)."""


BLOCK_CHECKS: dict[str, Callable[[Checker, dict[str, Any], str], None]] = {
    "section": _section,
    "header": _header,
    "actions": _actions,
    "context": _context,
    "divider": _free,
    "image": _image,
    "input": _input,
    "markdown": _markdown,
    "rich_text": _free,
    "file": _free,
    "video": _free,
}


# -- elements -------------------------------------------------------------------------------------------------


def _button(c: Checker, element: dict[str, Any], at: str) -> None:
    c.text(element.get("text"), f"{at}/text", 75, plain_only=True)
    c.max_len(element.get("value"), 2000, f"{at}/value")
    c.max_len(element.get("url"), 3000, f"{at}/url")
    if element.get("style") not in (None, "primary", "danger"):
        c.fail(f"{at}/style", "must be a valid enum value")


def _select(c: Checker, element: dict[str, Any], at: str) -> None:
    if element.get("option_groups") is not None:
        for index, group in enumerate(c.items(element["option_groups"], f"{at}/option_groups", most=100, least=1)):
            pointer = f"{at}/option_groups/{index}"
            c.text(group.get("label") if isinstance(group, dict) else None, f"{pointer}/label", 75, plain_only=True)
            c.options(group.get("options") if isinstance(group, dict) else None, f"{pointer}/options", most=100)
    else:
        c.options(element.get("options"), f"{at}/options", most=100)


def _overflow(c: Checker, element: dict[str, Any], at: str) -> None:
    c.options(element.get("options"), f"{at}/options", most=5)


def _choices(c: Checker, element: dict[str, Any], at: str) -> None:
    c.options(element.get("options"), f"{at}/options", most=10, plain_only=False)


def _text_input(c: Checker, element: dict[str, Any], at: str) -> None:
    for name in ("min_length", "max_length"):
        value = element.get(name)
        if value is not None and (not isinstance(value, int) or not 0 <= value <= 3000):
            c.fail(f"{at}/{name}", "must be an integer from 0 to 3000")
    c.max_len(element.get("initial_value"), 3000, f"{at}/initial_value")


def _image_source(c: Checker, element: dict[str, Any], at: str) -> None:
    if element.get("image_url") is None and element.get("slack_file") is None:
        c.fail(f"{at}/image_url", "missing required field")
    c.max_len(element.get("image_url"), 3000, f"{at}/image_url")
    alt_text = element.get("alt_text")
    if not isinstance(alt_text, str) or not alt_text:
        c.fail(f"{at}/alt_text", "must be more than 0 characters")
    c.max_len(alt_text, 2000, f"{at}/alt_text")


ELEMENT_CHECKS: dict[str, Callable[[Checker, dict[str, Any], str], None]] = {
    "button": _button,
    "static_select": _select,
    "multi_static_select": _select,
    "overflow": _overflow,
    "checkboxes": _choices,
    "radio_buttons": _choices,
    "plain_text_input": _text_input,
    "image": _image_source,
}


# -- entry points ---------------------------------------------------------------------------------------------


def check_message_blocks(blocks: Any, pointer: str = "/blocks") -> list[str]:
    """Errors of a message's ``blocks`` (chat.postMessage, chat.update, chat.postEphemeral, response_url)."""
    checker = Checker()
    checker.blocks(blocks, pointer, MESSAGE_MAX_BLOCKS)
    return checker.errors


def check_view(view: Any, types: Iterable[str] = ("modal",)) -> list[str]:
    """Errors of a view (views.open, views.push, views.update, views.publish)."""
    checker = Checker()
    checker.view(view, "/view", tuple(types))
    return checker.errors
