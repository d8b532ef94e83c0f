"""The lifecycle table: every action, who may take it, from which states, to which states."""

from dataclasses import dataclass
from enum import StrEnum


class OrderState(StrEnum):
    AWAITING_REQUIREMENTS = "awaiting_requirements"
    AWAITING_ACCEPTANCE = "awaiting_acceptance"
    DECLINED = "declined"
    EXPIRED = "expired"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


S = OrderState
ENDED = frozenset({S.DECLINED, S.EXPIRED, S.COMPLETED, S.CANCELLED})
ESCROWED = frozenset({S.AWAITING_REQUIREMENTS, S.AWAITING_ACCEPTANCE, S.IN_PROGRESS, S.DELIVERED})
WORKING = frozenset({S.IN_PROGRESS, S.DELIVERED, S.ACCEPTED})
OPEN = frozenset(S) - ENDED


class Role(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    ADMIN = "admin"
    TIMER = "timer"


class Action(StrEnum):
    """Every action on an order. The values are short: they go into button ids."""

    SUBMIT_REQUIREMENTS = "rq"
    CANCEL = "cx"
    ACCEPT_ORDER = "ac"
    DECLINE_ORDER = "dc"
    EXPIRE = "ex"
    SAVE_DRAFT = "df"
    DELIVER = "dl"
    REQUEST_TIME = "mt"
    ANSWER_TIME = "at"
    GRANT_TIME = "gt"
    REPORT_PROBLEM = "pb"
    WITHDRAW_PROBLEM = "pw"
    ACCEPT_DELIVERY = "ad"
    AUTO_ACCEPT = "aa"
    REQUEST_MODIFICATION = "md"
    EXTEND_REVIEW = "er"
    SEND_FINAL_WORK = "fw"
    ALREADY_SENT = "as"
    LEAVE_REVIEW = "rv"
    RESPOND_TO_REVIEW = "rr"
    REQUEST_CANCELLATION = "rc"
    ANSWER_CANCELLATION = "ca"
    AUTO_CANCEL = "ac2"
    CANCEL_LATE = "cl"
    TIP = "tp"
    CLEAR_FUNDS = "cf"
    REMIND = "rm"
    DOWNLOAD_INVOICE = "iv"
    POST_MESSAGE = "ms"
    RESOLVE = "rs"
    VIEW = "vw"  # every read: the board, the history, the invoice, the files, the lists and exports


@dataclass(frozen=True, slots=True)
class Rule:
    action: Action
    roles: frozenset[Role]
    sources: frozenset[OrderState]
    targets: frozenset[OrderState]
    verb: str
    button: str = ""  # the board's label; empty when the action has no button
    while_paused: bool = False
    requester_button: str = ""  # the label seen by whoever made the request this action answers, if it differs


def _rule(action: Action, roles: str, sources: frozenset[OrderState] | set[OrderState], targets: set[OrderState],
          verb: str, button: str = "", while_paused: bool = False, requester_button: str = "") -> Rule:
    return Rule(action, frozenset(Role(r) for r in roles.split()), frozenset(sources), frozenset(targets),
                verb, button, while_paused, requester_button)


B, SE, A, T = "buyer", "seller", "admin", "timer"
RULES: tuple[Rule, ...] = (
    _rule(Action.SUBMIT_REQUIREMENTS, B, {S.AWAITING_REQUIREMENTS}, {S.AWAITING_ACCEPTANCE}, "submit the requirements", "Submit requirements"),
    _rule(Action.CANCEL, f"{B} {A}", {S.AWAITING_REQUIREMENTS}, {S.CANCELLED}, "cancel the order", "Cancel order"),
    _rule(Action.ACCEPT_ORDER, SE, {S.AWAITING_ACCEPTANCE}, {S.IN_PROGRESS}, "accept the order", "Accept"),
    _rule(Action.DECLINE_ORDER, SE, {S.AWAITING_ACCEPTANCE}, {S.DECLINED}, "decline the order", "Decline"),
    _rule(Action.EXPIRE, T, {S.AWAITING_ACCEPTANCE}, {S.EXPIRED}, "expire the order"),
    _rule(Action.SAVE_DRAFT, SE, {S.IN_PROGRESS, S.ACCEPTED}, set(), "save a draft"),
    _rule(Action.DELIVER, SE, {S.IN_PROGRESS}, {S.DELIVERED}, "deliver", "Deliver"),
    _rule(Action.REQUEST_TIME, SE, {S.IN_PROGRESS}, set(), "request more time", "Request more time"),
    _rule(Action.ANSWER_TIME, B, {S.IN_PROGRESS}, set(), "answer the request for more time", "Answer time request"),
    _rule(Action.GRANT_TIME, T, {S.IN_PROGRESS}, set(), "grant more time"),
    _rule(Action.REPORT_PROBLEM, f"{B} {SE}", WORKING, set(), "report a problem", "Problem with order"),
    _rule(Action.WITHDRAW_PROBLEM, f"{B} {SE}", WORKING, set(), "withdraw the problem report", "Withdraw problem report", True),
    _rule(Action.ACCEPT_DELIVERY, B, {S.DELIVERED}, {S.ACCEPTED, S.COMPLETED}, "accept the delivery", "Accept delivery"),
    _rule(Action.AUTO_ACCEPT, T, {S.DELIVERED}, {S.ACCEPTED, S.COMPLETED}, "accept the delivery"),
    _rule(Action.REQUEST_MODIFICATION, B, {S.DELIVERED}, {S.IN_PROGRESS}, "request a modification", "Request modification"),
    _rule(Action.EXTEND_REVIEW, B, {S.DELIVERED}, set(), "extend the review time", "Extend review time"),
    _rule(Action.SEND_FINAL_WORK, SE, {S.ACCEPTED}, {S.COMPLETED}, "send the final work", "Send final work"),
    _rule(Action.ALREADY_SENT, SE, {S.ACCEPTED}, {S.COMPLETED}, "confirm the work was already sent", "Already sent work"),
    _rule(Action.LEAVE_REVIEW, B, {S.ACCEPTED, S.COMPLETED}, set(), "leave a review", "Leave review"),
    _rule(Action.RESPOND_TO_REVIEW, SE, {S.ACCEPTED, S.COMPLETED}, set(), "respond to the review", "Respond to review"),
    _rule(Action.REQUEST_CANCELLATION, f"{B} {SE}", {S.IN_PROGRESS, S.DELIVERED}, set(), "ask to cancel", "Ask to cancel"),
    _rule(Action.ANSWER_CANCELLATION, f"{B} {SE}", {S.IN_PROGRESS, S.DELIVERED}, {S.CANCELLED}, "answer the cancellation request", "Answer cancellation", requester_button="Withdraw cancellation request"),
    _rule(Action.AUTO_CANCEL, T, {S.IN_PROGRESS, S.DELIVERED}, {S.CANCELLED}, "cancel the order"),
    _rule(Action.CANCEL_LATE, B, {S.IN_PROGRESS}, {S.CANCELLED}, "cancel the late order", "Cancel late order"),
    _rule(Action.TIP, B, {S.COMPLETED}, set(), "tip the seller", "Tip"),
    _rule(Action.CLEAR_FUNDS, T, {S.COMPLETED, S.CANCELLED}, set(), "clear the earnings"),
    _rule(Action.REMIND, T, {S.IN_PROGRESS, S.ACCEPTED}, set(), "send a reminder"),
    _rule(Action.DOWNLOAD_INVOICE, f"{B} {SE} {A}", frozenset(S), set(), "download the invoice", "Download invoice", True),
    _rule(Action.POST_MESSAGE, f"{B} {SE} {A}", OPEN, set(), "write in the workspace", "", True),
    _rule(Action.RESOLVE, A, OPEN, {S.CANCELLED, S.COMPLETED}, "resolve the order", "", True),
    _rule(Action.VIEW, f"{B} {SE} {A}", frozenset(S), set(), "read the order", "", True),
)

RULE = {rule.action: rule for rule in RULES}
LEGAL_MOVES = frozenset((src, dst) for rule in RULES for src in rule.sources for dst in rule.targets)


def is_legal(before: OrderState, after: OrderState) -> bool:
    return before == after or (before, after) in LEGAL_MOVES
