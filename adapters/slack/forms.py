"""The modals behind the board's buttons: which inputs each action needs, and the command they make.

One table, `FORMS`, from an action to its form: the listener opens the form's modal, and on submit
reads its values back into the core's command. A value that cannot be read becomes an error shown
under its input in the modal, as Slack expects in the submission's ack.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from core import commands as c
from core.actor import Actor
from core.durations import parse_duration
from core.errors import Refused
from core.lifecycle import Action
from core.money import parse_amount
from core.order_parts import DeliveryKind, FileRef

TITLE_MAX = 24  # Slack's limit on a modal's title


class FieldError(Exception):
    """A value a person typed that cannot be used: shown under its input."""

    def __init__(self, block_id: str, message: str):
        super().__init__(message)
        self.block_id, self.message = block_id, message


class Usage(Exception):
    """A slash command that could not be read: the help follows the reason."""


def request_key(body: dict[str, Any]) -> str:
    """The request's own id: a retried request carries the same, so it has one effect."""
    action = (body.get("actions") or [{}])[0]
    marker = body.get("trigger_id") or action.get("action_ts") or (body.get("view") or {}).get("id", "")
    return f"slack:{marker}:{(body.get('view') or {}).get('hash', '')}"


@dataclass(frozen=True, slots=True)
class Field:
    key: str  # the block_id and action_id of its input
    label: str
    kind: str = "text"  # text, multiline, choice, checkboxes, files
    optional: bool = False
    hint: str = ""
    placeholder: str = ""
    options: tuple[tuple[str, str], ...] = ()  # (value, label) for choice and checkboxes
    max_length: int = 3000


@dataclass(frozen=True, slots=True)
class Values:
    """What a person submitted, by field key: text, selected values, or file ids."""

    data: dict[str, Any] = field(default_factory=dict)

    def text(self, key: str) -> str:
        value = self.data.get(key)
        return value.strip() if isinstance(value, str) else ""

    def chosen(self, key: str) -> list[str]:
        value = self.data.get(key)
        return list(value) if isinstance(value, list | tuple) else ([value] if isinstance(value, str) and value else [])

    def duration(self, key: str) -> timedelta:
        try:
            return parse_duration(self.text(key))
        except (ValueError, Refused) as error:
            raise FieldError(key, getattr(error, "reason", "Write a length of time such as 2d, 36h or 1d12h.")) from None

    def amount(self, key: str, currency: str) -> int:
        try:
            return parse_amount(self.text(key), currency)
        except (ValueError, Refused) as error:
            raise FieldError(key, getattr(error, "reason", str(error)) or "Write an amount such as 25 or 25.50.") from None

    def lines(self, key: str) -> tuple[str, ...]:
        return tuple(line.strip() for line in self.text(key).splitlines() if line.strip())


Build = Callable[[Actor, str, Values, "Extra"], c.Command]


@dataclass(frozen=True, slots=True)
class Extra:
    """What a form's command needs beyond the inputs: the order's currency, the files already copied."""

    currency: str = "USD"
    files: tuple[FileRef, ...] = ()
    draft_files: tuple[FileRef, ...] = ()  # the saved draft's files, kept when the seller ticks DRAFT_FILES


@dataclass(frozen=True, slots=True)
class Form:
    title: str
    submit: str
    fields: tuple[Field, ...]
    build: Build
    intro: str = ""


def _reason(label: str, hint: str = "") -> tuple[Field, ...]:
    return (Field("reason", label, "multiline", hint=hint),)


REASON_FORMS: dict[Action, tuple[str, str, str, Callable[[Actor, str, str], c.Command]]] = {
    Action.DECLINE_ORDER: ("Decline order", "Decline", "Why are you declining? (the buyer sees this)",
                           lambda a, o, r: c.DeclineOrder(actor=a, order_id=o, reason=r)),
    Action.CANCEL: ("Cancel order", "Cancel order", "Why are you cancelling?",
                    lambda a, o, r: c.CancelOrder(actor=a, order_id=o, reason=r)),
    Action.REPORT_PROBLEM: ("Problem with order", "Report", "What is wrong? An admin will look at it",
                            lambda a, o, r: c.ReportProblem(actor=a, order_id=o, reason=r)),
    Action.REQUEST_MODIFICATION: ("Request modification", "Send", "What should change?",
                                  lambda a, o, r: c.RequestModification(actor=a, order_id=o, message=r)),
    Action.REQUEST_CANCELLATION: ("Ask to cancel", "Ask", "Why do you want to cancel?",
                                  lambda a, o, r: c.RequestCancellation(actor=a, order_id=o, reason=r)),
    Action.RESPOND_TO_REVIEW: ("Respond to review", "Respond", "Your response (you can answer once)",
                               lambda a, o, r: c.RespondToReview(actor=a, order_id=o, text=r)),
}

FLAMES = tuple((str(n), "🔥" * n) for n in range(5, 0, -1))
YES_NO = (("yes", "Yes"), ("no", "No"))


DRAFT_FILES = "draft_files"  # an option shown when a draft with files was saved: deliver (or keep) its files


def _deliver(actor: Actor, order_id: str, v: Values, extra: Extra) -> c.Command:
    options = set(v.chosen("options"))
    links = v.lines("links")
    kind = DeliveryKind.FINAL if "final" in options else DeliveryKind.PREVIEW
    if "draft" in options:
        kept = extra.draft_files if DRAFT_FILES in options else ()
        return c.SaveDraft(actor=actor, order_id=order_id, description=v.text("description"),
                           files=extra.files + kept, links=links, kind=kind, replace_all=True)  # the whole draft
    return c.DeliverOrder(actor=actor, order_id=order_id, description=v.text("description"), files=extra.files,
                          links=links, kind=kind, confirm_no_file="no_file" in options, from_draft=DRAFT_FILES in options)


def _final_work(actor: Actor, order_id: str, v: Values, extra: Extra) -> c.Command:
    options = set(v.chosen("options"))
    return c.SendFinalWork(actor=actor, order_id=order_id, description=v.text("description"), files=extra.files,
                           links=v.lines("links"), confirm_no_file="no_file" in options,
                           from_draft=DRAFT_FILES in options)


def _review(actor: Actor, order_id: str, v: Values, extra: Extra) -> c.Command:
    rating = v.chosen("rating")
    if not rating:
        raise FieldError("rating", "Choose from one to five flames.")
    return c.LeaveReview(actor=actor, order_id=order_id, rating=int(rating[0]), text=v.text("text"))


SHARED = "shared"  # the files already shared in the order's channel: options filled when the modal opens

_WORK_FIELDS = (
    Field("description", "What you are delivering", "multiline", optional=True),
    Field(SHARED, "Files shared in the order's channel", "checkboxes", optional=True),
    Field("files", "Upload files", "files", optional=True, hint="Stored by gigroom with a SHA-256 checksum."),
    Field("links", "Links, one per line", "multiline", optional=True),
)

FORMS: dict[Action, Form] = {
    Action.DELIVER: Form("Deliver", "Deliver", (*_WORK_FIELDS, Field(
        "options", "Options", "checkboxes", optional=True,
        options=(("final", "This is the final delivery (not a preview)"), ("draft", "Save as a draft, don't deliver"),
                 ("no_file", "No file: I confirm this delivery has no file")))), _deliver),
    Action.SEND_FINAL_WORK: Form("Send final work", "Send", (*_WORK_FIELDS, Field(
        "options", "Options", "checkboxes", optional=True,
        options=(("no_file", "No file: I confirm the final work has no file"),))), _final_work),
    Action.REQUEST_TIME: Form("Request more time", "Ask", (
        Field("extra", "How much more time?", placeholder="2d"), *_reason("Why?")),
        lambda a, o, v, e: c.RequestMoreTime(actor=a, order_id=o, extra=v.duration("extra"), reason=v.text("reason"))),
    Action.ANSWER_TIME: Form("Time request", "Answer", (
        Field("approve", "Give the seller the extra time?", "choice", options=YES_NO),),
        lambda a, o, v, e: c.AnswerTimeRequest(actor=a, order_id=o, approve=v.chosen("approve") == ["yes"])),
    Action.ANSWER_CANCELLATION: Form("Cancellation request", "Answer", (
        Field("agree", "Agree to cancel the order?", "choice", options=YES_NO),),
        lambda a, o, v, e: c.AnswerCancellation(actor=a, order_id=o, agree=v.chosen("agree") == ["yes"])),
    Action.EXTEND_REVIEW: Form("Extend review time", "Extend", (
        Field("extra", "How much longer do you need?", placeholder="2d"),),
        lambda a, o, v, e: c.ExtendReview(actor=a, order_id=o, extra=v.duration("extra"))),
    Action.LEAVE_REVIEW: Form("Leave a review", "Post review", (
        Field("rating", "Flame rating", "choice", options=FLAMES), Field("text", "Your review", "multiline")),
        _review, intro="Your review and rating release the final work."),
    Action.TIP: Form("Tip the seller", "Send tip", (Field("amount", "Amount", placeholder="10.00"),),
                     lambda a, o, v, e: c.Tip(actor=a, order_id=o, amount=v.amount("amount", e.currency))),
    **{action: Form(title, submit, _reason(label),
                    lambda a, o, v, e, make=make: make(a, o, v.text("reason")))  # type: ignore[misc]
       for action, (title, submit, label, make) in REASON_FORMS.items()},
}


def requirements_form(questions: tuple[str, ...]) -> Form:
    fields = tuple(Field(f"q{i}", question[:2000], "multiline") for i, question in enumerate(questions))
    return Form("Job requirements", "Submit", fields,
                lambda a, o, v, e: c.SubmitRequirements(actor=a, order_id=o,
                                                        answers=tuple(v.text(f"q{i}") for i in range(len(fields)))),
                intro="The seller starts from your answers.")
