"""The order aggregate: its state, its deadlines, its money, and every action on it."""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from core import events as ev
from core import ledger
from core.actor import Actor, Owed
from core.durations import MAX_DURATION, format_duration
from core.errors import NotFound, Refused
from core.lifecycle import ENDED, ESCROWED, RULE, WORKING, Action, OrderState, Role
from core.money import MAX_AMOUNT, fee, format_amount
from core.order_parts import (
    Answer,
    CancellationRequest,
    Delivery,
    DeliveryKind,
    FileRef,
    FinalWork,
    FinalWorkHow,
    Modification,
    Problem,
    Resolution,
    Review,
    TimeRequest,
    TimerKind,
    Tranche,
)
from core.policy import Policy, ReviewWindow
from core.terms import MAX_TEXT, Terms
from core.words import plural

S = OrderState
MAX_LINKS = 20
MAX_FILES = 50


@dataclass(eq=False)
class Order:
    id: str
    community_id: str
    buyer_id: str
    seller_id: str
    terms: Terms
    policy: Policy
    placed_at: datetime
    state: OrderState = S.AWAITING_REQUIREMENTS
    listing_id: str | None = None
    offer_id: str | None = None
    answers: tuple[Answer, ...] = ()
    accept_by: datetime | None = None
    accepted_at: datetime | None = None
    due_at: datetime | None = None
    due_set_at: datetime | None = None
    extended: timedelta = timedelta(0)
    reminded_for: datetime | None = None
    late_for: datetime | None = None
    late_cancel_for: datetime | None = None
    time_request: TimeRequest | None = None
    deliveries: tuple[Delivery, ...] = ()
    draft: Delivery | None = None
    modifications: tuple[Modification, ...] = ()
    review_ends_at: datetime | None = None
    review_extended: timedelta = timedelta(0)
    delivery_accepted_at: datetime | None = None
    final_work_due_at: datetime | None = None
    overdue_for: datetime | None = None
    final_work: FinalWork | None = None
    completed_at: datetime | None = None
    review: Review | None = None
    problem: Problem | None = None
    cancellation: CancellationRequest | None = None
    ended_at: datetime | None = None
    escrow: int = 0
    pending: int = 0
    clearing: tuple[Tranche, ...] = ()  # the part of `pending` whose clearance period is counting down
    to_seller: int = 0
    fees: int = 0
    refunded: int = 0
    tips: int = 0
    version: int = 0
    events: list[ev.Event] = field(default_factory=list, repr=False)
    transactions: list[ledger.Transaction] = field(default_factory=list, repr=False)

    # ---- placing -------------------------------------------------------------------------------
    @classmethod
    def place(cls, order_id: str, buyer: Actor, seller_id: str, terms: Terms, policy: Policy, now: datetime,
              listing_id: str | None = None, offer_id: str | None = None) -> "Order":
        if buyer.user_id == seller_id:
            raise Refused("You can't order your own service.")
        order = cls(order_id, buyer.community_id, buyer.user_id, seller_id, terms, policy, now,
                    listing_id=listing_id, offer_id=offer_id, escrow=terms.total)
        order._post(ledger.move(ledger.TxnKind.PAYMENT, terms.currency, ledger.payments(buyer.user_id),
                                ledger.escrow(order_id), terms.total, order_id, "paid into escrow"))
        if not terms.questions:
            order.state, order.accept_by = S.AWAITING_ACCEPTANCE, now + policy.acceptance_window
        order._emit(ev.OrderPlaced, now, total=terms.total, currency=terms.currency,
                    needs_requirements=bool(terms.questions))
        return order

    # ---- who, what, when ------------------------------------------------------------------------
    def roles(self, actor: Actor) -> frozenset[Role]:
        roles = {Role.ADMIN} if actor.is_admin else set()
        if actor.user_id == self.buyer_id:
            roles.add(Role.BUYER)
        if actor.user_id == self.seller_id:
            roles.add(Role.SELLER)
        return frozenset(roles)

    def check(self, action: Action, actor: Actor | None, now: datetime) -> Role:
        """The role `actor` acts in, or a refusal saying why they may not take `action` now."""
        rule = RULE[action]
        if actor is None:
            role = Role.TIMER
        else:
            mine = self.roles(actor)
            if not mine:
                raise Refused(f"Order {self.id} is not yours: only its buyer, its seller and admins can act on it.")
            allowed = [r for r in (Role.BUYER, Role.SELLER, Role.ADMIN) if r in mine and r in rule.roles]
            if not allowed:
                who = " or the ".join(r.value for r in (Role.BUYER, Role.SELLER, Role.ADMIN) if r in rule.roles)
                raise Refused(f"Only the {who} can {rule.verb}.")
            role = allowed[0]
        if self.state not in rule.sources:
            if self.state in rule.targets:
                raise Refused(f"Nothing to do: order {self.id} is already {self.state.label}.")
            raise Refused(f"You can't {rule.verb} now: order {self.id} is {self.state.label}.")
        if self.problem and not rule.while_paused and role is not Role.TIMER:
            raise Refused(f"Order {self.id} is paused while an admin looks at the problem report.")
        return role

    def check_read(self, actor: Actor) -> Role:
        """The role in which `actor` reads this order, or the refusal: the one rule for every read of it.

        Another community's order does not exist for the actor (as `uow_order` has it); in their own
        community, only the roles of the lifecycle table's VIEW rule read it, in every state, paused or not.
        What each role then sees of it is the views' business.
        """
        if actor.community_id != self.community_id:
            raise NotFound(f"There is no order {self.id} here.")
        return self.check(Action.VIEW, actor, self.placed_at)  # the VIEW rule has no time condition

    def readable(self, actor: Actor) -> bool:
        """Whether `actor` may read this order at all: lists keep only the orders this holds for."""
        try:
            self.check_read(actor)
        except Refused:
            return False
        return True

    def can(self, action: Action, actor: Actor, now: datetime) -> bool:
        """Whether the board should offer `action` to `actor` now."""
        try:
            role = self.check(action, actor, now)
        except Refused:
            return False
        condition = _CONDITIONS.get(action)
        return condition is None or condition(self, role, now) is None

    def requester(self, action: Action) -> Role | None:
        """Who made the pending request that `action` answers: answering one's own request withdraws it."""
        if action is Action.ANSWER_CANCELLATION and self.cancellation:
            return self.cancellation.by
        return None

    def _require(self, action: Action, role: Role, now: datetime) -> None:
        condition = _CONDITIONS.get(action)
        reason = condition(self, role, now) if condition else None
        if reason:
            raise Refused(reason)

    def _act(self, action: Action, actor: Actor | None, now: datetime) -> Role:
        role = self.check(action, actor, now)
        self._require(action, role, now)
        return role

    @property
    def deliveries_used(self) -> int:
        return sum(1 for d in self.deliveries if not d.final_work)

    @property
    def deliveries_left(self) -> int:
        return max(0, self.terms.deliveries - self.deliveries_used)

    @property
    def final_work_released(self) -> bool:
        waits = self.policy.final_work_waits_for_review
        return self.final_work is not None and (self.review is not None or not waits)

    @property
    def clears_at(self) -> datetime | None:
        """When the next earnings of this order clear."""
        return min((t.at for t in self.clearing), default=None)

    @property
    def workspace_done(self) -> bool:
        """The workspace can be archived: the order ended, and a completed one's review was answered or it cleared."""
        if self.state not in ENDED:
            return False
        return self.state is not S.COMPLETED or bool(self.review and self.review.reply) or not self.clearing

    @property
    def late_cancel_at(self) -> datetime | None:
        return self.due_at + self.policy.late_cancel_after if self.due_at else None

    def owed(self) -> tuple[Owed, ...]:
        """Who owes the next action, and what it is."""
        if self.problem or self.state in {S.DECLINED, S.EXPIRED, S.CANCELLED}:
            return ()
        if self.cancellation:
            other = self.seller_id if self.cancellation.by is Role.BUYER else self.buyer_id
            return (Owed(other, "answer the cancellation request"),)
        buyer, seller = self.buyer_id, self.seller_id
        match self.state:
            case S.AWAITING_REQUIREMENTS:
                return (Owed(buyer, "submit the requirements"),)
            case S.AWAITING_ACCEPTANCE:
                return (Owed(seller, "accept or decline the order"),)
            case S.IN_PROGRESS if self.time_request:
                return (Owed(buyer, "answer the request for more time"),)
            case S.IN_PROGRESS:
                return (Owed(seller, "deliver the order"),)
            case S.DELIVERED:
                return (Owed(buyer, "accept the delivery or request a modification"),)
            case S.ACCEPTED:
                owed = [Owed(seller, "send the final work")]
                if not self.review:
                    owed.append(Owed(buyer, "leave a review and flame rating"))
                return tuple(owed)
            case _:
                return () if self.review else (Owed(buyer, "leave a review and flame rating"),)

    # ---- the parties' actions --------------------------------------------------------------------
    def submit_requirements(self, actor: Actor, answers: tuple[str, ...], now: datetime) -> None:
        self._act(Action.SUBMIT_REQUIREMENTS, actor, now)
        questions = self.terms.questions
        if len(answers) != len(questions) or any(not a.strip() for a in answers):
            raise Refused(f"Answer {plural(len(questions), 'requirement question', every=True)}: " + " / ".join(questions),
                          field="answers")
        for answer in answers:
            _text_limit(answer, "An answer")
        self.answers = tuple(Answer(q, a.strip()) for q, a in zip(questions, answers, strict=True))
        self.state, self.accept_by = S.AWAITING_ACCEPTANCE, now + self.policy.acceptance_window
        self._emit(ev.RequirementsSubmitted, now, answers=self.answers, accept_by=self.accept_by)

    def cancel(self, actor: Actor, reason: str, now: datetime) -> None:
        role = self._act(Action.CANCEL, actor, now)
        self._cancel(now, role, reason.strip() or "Cancelled before the requirements were submitted.")

    def accept(self, actor: Actor, now: datetime) -> None:
        self._act(Action.ACCEPT_ORDER, actor, now)
        self.state, self.accepted_at, self.accept_by = S.IN_PROGRESS, now, None
        self._set_due(now + timedelta(days=self.terms.delivery_days), now)
        assert self.due_at
        self._emit(ev.OrderAccepted, now, due_at=self.due_at, nda=self.terms.nda, licence=self.terms.licence)

    def decline(self, actor: Actor, reason: str, now: datetime) -> None:
        self._act(Action.DECLINE_ORDER, actor, now)
        refund = self._refund(self.escrow, "declined")
        self.state, self.ended_at, self.accept_by = S.DECLINED, now, None
        self._emit(ev.OrderDeclined, now, reason=reason.strip(), refund=refund, currency=self.terms.currency)

    def save_draft(self, actor: Actor, description: str, files: tuple[FileRef, ...], links: tuple[str, ...],
                   kind: DeliveryKind, now: datetime, replace_all: bool = False) -> None:
        """Save the draft delivery. A save merges with what is saved, so a save never loses work by omission:
        a text replaces the saved text (no text keeps it), files and links join the saved ones (each once),
        and the kind is this save's. `replace_all` is for a form that showed the whole draft to edit (Slack's
        Deliver modal reopens it): what it sends is the draft, so a file or link left out is removed."""
        self._act(Action.SAVE_DRAFT, actor, now)
        _text_limit(description, "A description")
        saved = None if replace_all else self.draft
        if saved is not None:
            by_hash: dict[str, FileRef] = {}
            for f in (*saved.files, *files):
                by_hash.setdefault(f.sha256, f)
            files = tuple(by_hash.values())
            links = tuple(dict.fromkeys((*saved.links, *links)))
            description = description if description.strip() else saved.description
        self._check_files(files, links)
        self.draft = Delivery(0, description.strip(), files, links, kind, now)
        self._emit(ev.DraftSaved, now, draft=self.draft)

    def add_draft_files(self, actor: Actor, files: tuple[FileRef, ...], now: datetime) -> None:
        """Add files to the draft (a new, empty one if there is none): the rest of the draft stays."""
        self._act(Action.SAVE_DRAFT, actor, now)
        draft = self.draft or Delivery(0, "", (), (), DeliveryKind.PREVIEW, now)
        by_hash: dict[str, FileRef] = {}
        for f in (*draft.files, *files):
            by_hash.setdefault(f.sha256, f)  # the same content once, under the name it first came with
        added = tuple(by_hash.values())
        self._check_files(added, draft.links)
        self.draft = replace(draft, files=added, at=now)
        self._emit(ev.DraftSaved, now, draft=self.draft)

    def deliver(self, actor: Actor, description: str, files: tuple[FileRef, ...], links: tuple[str, ...],
                kind: DeliveryKind | None, confirm_no_file: bool, now: datetime, from_draft: bool = False) -> None:
        self._act(Action.DELIVER, actor, now)
        delivery = self._delivery(description, files, links, kind, confirm_no_file, from_draft, now)
        self.deliveries += (delivery,)
        self.state, self.draft, self.time_request = S.DELIVERED, None, None
        self.review_ends_at = self._review_start(now) + self.policy.review_window
        self.review_extended = timedelta(0)  # each delivery has its own review window
        self._emit(ev.OrderDelivered, now, delivery=delivery, deliveries_left=self.deliveries_left,
                   review_ends_at=self.review_ends_at)

    def request_time(self, actor: Actor, extra: timedelta, reason: str, now: datetime) -> None:
        self._act(Action.REQUEST_TIME, actor, now)
        if not timedelta(hours=1) <= extra <= self.policy.max_time_request:
            limit = format_duration(self.policy.max_time_request)
            raise Refused(f"Ask for between 1h and {limit} more, not {format_duration(extra)}.")
        if not reason.strip():
            raise Refused("Say why you need more time: the buyer decides on it.")
        _text_limit(reason, "A reason")
        answer_by = now + self.policy.time_request_window
        self.time_request = TimeRequest(extra, reason.strip(), now, answer_by)
        self._emit(ev.TimeRequested, now, extra=extra, reason=reason.strip(), answer_by=answer_by)

    def answer_time(self, actor: Actor, approve: bool, now: datetime) -> None:
        self._act(Action.ANSWER_TIME, actor, now)
        self._close_time_request(approve, False, now)

    def report_problem(self, actor: Actor, reason: str, now: datetime) -> None:
        role = self._act(Action.REPORT_PROBLEM, actor, now)
        if not reason.strip():
            raise Refused("Describe the problem: an admin reads it to resolve the order.")
        _text_limit(reason, "A problem report")
        self.problem = Problem(role, actor.user_id, reason.strip(), now)
        self._emit(ev.ProblemReported, now, by=role, reason=reason.strip())

    def withdraw_problem(self, actor: Actor, now: datetime) -> None:
        role = self._act(Action.WITHDRAW_PROBLEM, actor, now)
        assert self.problem
        if self.problem.user_id != actor.user_id:
            raise Refused("Only whoever reported the problem can withdraw the report.")
        self._resume(now)
        self._emit(ev.ProblemWithdrawn, now, by=role)

    def accept_delivery(self, actor: Actor, now: datetime) -> None:
        self._act(Action.ACCEPT_DELIVERY, actor, now)
        self._accept_delivery(now, automatic=False)

    def request_modification(self, actor: Actor, message: str, now: datetime) -> None:
        self._act(Action.REQUEST_MODIFICATION, actor, now)
        if not message.strip():
            raise Refused("Say what should change: the seller works from your message.")
        _text_limit(message, "A modification request")
        assert self.due_at
        self.modifications += (Modification(message.strip(), now),)
        self.state, self.review_ends_at = S.IN_PROGRESS, None
        self._set_due(max(self.due_at, now + self.policy.modification_time), now)
        self._emit(ev.ModificationRequested, now, message=message.strip(), deliveries_left=self.deliveries_left,
                   due_at=self.due_at)

    def extend_review(self, actor: Actor, extra: timedelta, now: datetime) -> None:
        self._act(Action.EXTEND_REVIEW, actor, now)
        room = self.policy.max_review_extension - self.review_extended
        if extra <= timedelta(0) or extra > room:
            raise Refused(f"You can extend the review time by up to {format_duration(room)} more.")
        assert self.review_ends_at
        self.review_extended += extra
        self.review_ends_at += extra
        self._emit(ev.ReviewExtended, now, extra=extra, review_ends_at=self.review_ends_at)

    def send_final_work(self, actor: Actor, description: str, files: tuple[FileRef, ...], links: tuple[str, ...],
                        confirm_no_file: bool, now: datetime, from_draft: bool = False) -> None:
        self._act(Action.SEND_FINAL_WORK, actor, now)
        delivery = self._delivery(description, files, links, DeliveryKind.FINAL, confirm_no_file, from_draft, now,
                                  final_work=True)
        self.deliveries += (delivery,)
        self.draft = None
        self.final_work = FinalWork(FinalWorkHow.FILES, now, delivery.number)
        self._emit(ev.FinalWorkDelivered, now, how=FinalWorkHow.FILES, delivery=delivery,
                   released_to_buyer=self.final_work_released)
        self._complete(now)

    def already_sent(self, actor: Actor, now: datetime) -> None:
        self._act(Action.ALREADY_SENT, actor, now)
        self.final_work, self.draft = FinalWork(FinalWorkHow.ALREADY_SENT, now), None
        self._emit(ev.FinalWorkDelivered, now, how=FinalWorkHow.ALREADY_SENT, delivery=None,
                   released_to_buyer=self.final_work_released)
        self._complete(now)

    def leave_review(self, actor: Actor, rating: int, text: str, now: datetime) -> None:
        self._act(Action.LEAVE_REVIEW, actor, now)
        if not 1 <= rating <= 5:
            raise Refused(f"A flame rating is from 1 to 5, not {rating}.")
        if not text.strip():
            raise Refused("Write a few words with your rating: the review is public to the seller.")
        _text_limit(text, "A review")
        self.review = Review(rating, text.strip(), now)
        self._emit(ev.ReviewLeft, now, rating=rating, text=text.strip(), final_work_released=self.final_work_released)

    def respond_to_review(self, actor: Actor, text: str, now: datetime) -> None:
        self._act(Action.RESPOND_TO_REVIEW, actor, now)
        if not text.strip():
            raise Refused("Write your response: you can respond once, so take care.")
        _text_limit(text, "A response")
        assert self.review
        self.review = replace(self.review, reply=text.strip(), replied_at=now)
        self._emit(ev.ReviewAnswered, now, text=text.strip())

    def request_cancellation(self, actor: Actor, reason: str, now: datetime) -> None:
        role = self._act(Action.REQUEST_CANCELLATION, actor, now)
        if not reason.strip():
            raise Refused("Say why you want to cancel: the other side decides on it.")
        _text_limit(reason, "A reason")
        answer_by = now + self.policy.cancellation_window
        self.cancellation = CancellationRequest(role, reason.strip(), now, answer_by)
        self._emit(ev.CancellationRequested, now, by=role, reason=reason.strip(), answer_by=answer_by)

    def answer_cancellation(self, actor: Actor, agree: bool, now: datetime) -> None:
        role = self._act(Action.ANSWER_CANCELLATION, actor, now)
        assert self.cancellation
        if role is self.cancellation.by:
            self.cancellation = None
            self._emit(ev.CancellationAnswered, now, by=role, agreed=False, withdrawn=True)
        elif agree:
            self._emit(ev.CancellationAnswered, now, by=role, agreed=True, withdrawn=False)
            self._cancel(now, role, "Both parties agreed to cancel.")
        else:
            self.cancellation = None
            self._emit(ev.CancellationAnswered, now, by=role, agreed=False, withdrawn=False)

    def cancel_late(self, actor: Actor, now: datetime) -> None:
        self._act(Action.CANCEL_LATE, actor, now)
        self._cancel(now, Role.BUYER, f"Cancelled by the buyer: more than {format_duration(self.policy.late_cancel_after)} late.")

    def tip(self, actor: Actor, amount: int, now: datetime) -> None:
        self._act(Action.TIP, actor, now)
        if amount <= 0:
            raise Refused("A tip must be more than zero.")
        if amount > MAX_AMOUNT:
            raise Refused("A tip is more than gigroom handles in one amount.")
        txn, net, taken = ledger.release(self.terms.currency, ledger.payments(self.buyer_id), self.seller_id,
                                         self.id, amount, self.terms.fee_bps, ledger.TxnKind.TIP)
        self._post(txn)
        self.tips += amount
        self._credit_seller(net, taken, now)
        self._emit(ev.TipSent, now, amount=amount, fee=taken, currency=self.terms.currency)

    def post_message(self, actor: Actor, text: str, now: datetime) -> None:
        self._act(Action.POST_MESSAGE, actor, now)
        if not text.strip():
            raise Refused("The message is empty.")
        _text_limit(text, "A message")
        self._emit(ev.MessagePosted, now, author_id=actor.user_id, text=text.strip())

    # ---- admins ----------------------------------------------------------------------------------
    def resolve(self, actor: Actor, resolution: Resolution, now: datetime, extra: timedelta = timedelta(0),
                refund: int | None = None, note: str = "") -> None:
        self._act(Action.RESOLVE, actor, now)
        if actor.user_id in (self.buyer_id, self.seller_id):
            raise Refused(f"You are a party to order {self.id}: another admin resolves it.")
        refunded = 0
        if resolution is Resolution.RESUME:
            if not self.problem:
                raise Refused(f"Order {self.id} is not paused: there is nothing to resume.")
            self._resume(now)
        elif resolution is Resolution.EXTEND:
            self._extend(extra, now)
        elif resolution is Resolution.CANCEL:
            if self.state not in ESCROWED | {S.ACCEPTED}:
                raise Refused(f"Order {self.id} is {self.state.label}: it can no longer be cancelled.")
            held = self.terms.total if self.state is S.ACCEPTED else self.escrow
            refund = held if refund is None else refund
            if not 0 <= refund <= held:
                raise Refused(f"The refund is between 0 and {format_amount(held, self.terms.currency)}.", field="refund")
            refunded = refund
        elif resolution is Resolution.COMPLETE and self.state not in WORKING:
            raise Refused(f"Only an order in progress, delivered or accepted can be completed; "
                          f"this one is {self.state.label}.")
        self._emit(ev.OrderResolved, now, resolution=resolution, admin_id=actor.user_id, note=note.strip(),
                   extra=extra, refund=refunded, currency=self.terms.currency)
        if resolution is Resolution.CANCEL:
            self._cancel(now, Role.ADMIN, note.strip() or "Cancelled by an admin.", refund)
        elif resolution is Resolution.COMPLETE:
            self.problem = None
            self._release(now)
            if self.final_work is None:
                self.final_work = FinalWork(FinalWorkHow.ADMIN, now)
            self._complete(now)

    # ---- timers ----------------------------------------------------------------------------------
    def deadlines(self) -> dict[TimerKind, datetime]:
        """The moments at which this order must act on its own: the rows of the timers table."""
        K = TimerKind
        found: dict[TimerKind, datetime | None] = {K.CLEARANCE: self.clears_at}
        if self.problem:
            return {k: v for k, v in found.items() if v}
        if self.cancellation:
            found[K.CANCELLATION] = self.cancellation.answer_by
        match self.state:
            case S.AWAITING_ACCEPTANCE:
                found[K.ACCEPTANCE] = self.accept_by
            case S.IN_PROGRESS if self.due_at:
                reminder = self.due_at - self.policy.due_reminder
                if self.policy.due_reminder and self.reminded_for != self.due_at and reminder > (self.due_set_at or reminder):
                    found[K.REMINDER] = reminder
                if self.late_for != self.due_at:
                    found[K.LATE] = self.due_at
                if self.late_cancel_for != self.due_at:
                    found[K.LATE_CANCEL] = self.due_at + self.policy.late_cancel_after
                if self.time_request:
                    found[K.TIME_REQUEST] = self.time_request.answer_by
            case S.DELIVERED:
                found[K.REVIEW] = self.review_ends_at
            case S.ACCEPTED if self.final_work_due_at and self.overdue_for != self.final_work_due_at:
                found[K.FINAL_WORK] = self.final_work_due_at
        return {k: v for k, v in found.items() if v}

    def on_timer(self, kind: TimerKind, now: datetime) -> bool:
        """Act on a deadline that has come; False when it no longer applies (it moved, or was met)."""
        due = self.deadlines().get(kind)
        if due is None or due > now:
            return False
        _TIMER_EFFECTS[kind](self, now)
        return True

    def catch_up(self, now: datetime) -> None:
        """Act on every deadline that has come, earliest first, as the sweep would have.

        A person acting just after a deadline, before the sweep reached it, finds the order as that
        deadline left it: no accepting an order that has expired, no accepting a delivery twice.
        """
        for _ in range(_MAX_CATCH_UP):  # each effect meets or moves its own deadline
            due = [(at, kind) for kind, at in self.deadlines().items() if at <= now]
            if not due:
                return
            self.on_timer(min(due)[1], now)

    def _expire(self, now: datetime) -> None:
        self.check(Action.EXPIRE, None, now)
        refund = self._refund(self.escrow, "expired")
        self.state, self.ended_at, self.accept_by = S.EXPIRED, now, None
        self._emit(ev.OrderExpired, now, refund=refund, currency=self.terms.currency)

    def _remind(self, now: datetime) -> None:
        assert self.due_at
        self.reminded_for = self.due_at
        self._emit(ev.DueDateReminder, now, due_at=self.due_at)

    def _flag_late(self, now: datetime) -> None:
        assert self.due_at and self.late_cancel_at
        self.late_for = self.due_at
        self._emit(ev.OrderLate, now, due_at=self.due_at, buyer_may_cancel_at=self.late_cancel_at)

    def _open_late_cancel(self, now: datetime) -> None:
        assert self.due_at
        self.late_cancel_for = self.due_at
        self._emit(ev.LateCancellationAvailable, now, due_at=self.due_at)

    def _grant_time(self, now: datetime) -> None:
        self.check(Action.GRANT_TIME, None, now)
        self._close_time_request(True, True, now)

    def _auto_accept(self, now: datetime) -> None:
        self.check(Action.AUTO_ACCEPT, None, now)
        self._accept_delivery(now, automatic=True)

    def _flag_overdue(self, now: datetime) -> None:
        assert self.final_work_due_at
        self.overdue_for = self.final_work_due_at
        self._emit(ev.FinalWorkOverdue, now, due_at=self.final_work_due_at)

    def _auto_cancel(self, now: datetime) -> None:
        self.check(Action.AUTO_CANCEL, None, now)
        assert self.cancellation
        other = "seller" if self.cancellation.by is Role.BUYER else "buyer"
        window = format_duration(self.policy.cancellation_window)
        self._cancel(now, Role.TIMER, f"The {other} did not answer the cancellation request within {window}.")

    def _clear(self, now: datetime) -> None:
        self.check(Action.CLEAR_FUNDS, None, now)
        amount, cur = sum(t.amount for t in self.clearing if t.at <= now), self.terms.currency
        self._post(ledger.move(ledger.TxnKind.CLEARANCE, cur, ledger.pending(self.seller_id, self.id),
                               ledger.available(self.seller_id), amount, self.id, "cleared"))
        self.pending -= amount
        self.clearing = tuple(t for t in self.clearing if t.at > now)
        self._emit(ev.FundsCleared, now, amount=amount, currency=cur)

    # ---- the moves behind several actions ---------------------------------------------------------
    def _set_due(self, due: datetime, now: datetime) -> None:
        self.due_at, self.due_set_at = due, now

    def _review_start(self, now: datetime) -> datetime:
        if self.policy.review_window_starts is ReviewWindow.FROM_DUE_DATE and self.due_at:
            return max(now, self.due_at)
        return now

    def _delivery(self, description: str, files: tuple[FileRef, ...], links: tuple[str, ...],
                  kind: DeliveryKind | None, confirm_no_file: bool, from_draft: bool, now: datetime,
                  final_work: bool = False) -> Delivery:
        """A delivery from what was given, or from the saved draft for whatever was not."""
        if from_draft:
            if not self.draft:
                raise Refused("There is no saved draft to deliver.", field="from_draft")
            description = description or self.draft.description
            files, links = files or self.draft.files, links or self.draft.links
            kind = kind or self.draft.kind
        kind = kind or DeliveryKind.PREVIEW
        if not description.strip():
            raise Refused("Describe your delivery in detail: the description is required.")
        _text_limit(description, "A description")
        self._check_files(files, links)
        if not files and not confirm_no_file:
            raise Refused("No file is attached.", field="confirm_no_file",
                          fix="Confirm that this delivery has no file, or attach one.")
        return Delivery(len(self.deliveries) + 1, description.strip(), files, links, kind, now, final_work)

    def _check_files(self, files: tuple[FileRef, ...], links: tuple[str, ...]) -> None:
        limit = self.policy.max_file_bytes
        if len(files) > MAX_FILES or len(links) > MAX_LINKS:
            raise Refused(f"A delivery holds at most {MAX_FILES} files and {MAX_LINKS} links.")
        for f in files:
            if f.size > limit:
                raise Refused(f"'{f.name}' is {f.size:,} bytes: one file may be up to {limit:,} bytes.",
                              field="links", fix="Share a link to it instead.")
        for link in links:
            if not link.startswith(("https://", "http://")) or len(link) > 2000 or " " in link:
                raise Refused(f"'{link[:80]}' is not a web link: links start with https://.", field="links")

    def _close_time_request(self, approve: bool, automatic: bool, now: datetime) -> None:
        assert self.time_request and self.due_at
        if approve:
            self.extended += self.time_request.extra
            self._set_due(self.due_at + self.time_request.extra, now)
        self.time_request = None
        self._emit(ev.TimeRequestAnswered, now, approved=approve, automatic=automatic, due_at=self.due_at)

    def _accept_delivery(self, now: datetime, automatic: bool) -> None:
        released, taken = self._release(now)
        self.delivery_accepted_at, self.review_ends_at, self.cancellation = now, None, None
        last = self.deliveries[-1]
        if last.kind is DeliveryKind.FINAL:
            self.final_work = FinalWork(FinalWorkHow.ACCEPTED_DELIVERY, now, last.number)
            self.state = S.ACCEPTED
            self._emit(ev.DeliveryAccepted, now, automatic=automatic, released=released, fee=taken,
                       currency=self.terms.currency, final_work_due_at=None)
            self._complete(now)
            return
        self.state, self.final_work_due_at = S.ACCEPTED, now + self.policy.final_work_window
        self._emit(ev.DeliveryAccepted, now, automatic=automatic, released=released, fee=taken,
                   currency=self.terms.currency, final_work_due_at=self.final_work_due_at)

    def _release(self, now: datetime) -> tuple[int, int]:
        if not self.escrow:
            return 0, 0
        txn, net, taken = ledger.release(self.terms.currency, ledger.escrow(self.id), self.seller_id, self.id,
                                         self.escrow, self.terms.fee_bps)
        self._post(txn)
        self.escrow = 0
        self._credit_seller(net, taken, None)
        return net, taken

    def _credit_seller(self, net: int, taken: int, now: datetime | None) -> None:
        """Net earnings into pending; once the order has ended they clear after the clearance period."""
        self.pending += net
        self.to_seller += net
        self.fees += taken
        if now is not None:
            self._start_clearance(now)

    def _start_clearance(self, now: datetime) -> None:
        """Earnings not yet counting down start their clearance period now."""
        waiting = self.pending - sum(t.amount for t in self.clearing)
        if waiting > 0:
            self.clearing += (Tranche(now + self.policy.clearance, waiting),)

    def _complete(self, now: datetime) -> None:
        self.state, self.completed_at, self.ended_at = S.COMPLETED, now, now
        self.final_work_due_at, self.time_request, self.cancellation = None, None, None
        self._start_clearance(now)
        self._emit(ev.OrderCompleted, now, clears_at=self.clears_at, net=self.to_seller, currency=self.terms.currency)

    def _refund(self, amount: int, memo: str) -> int:
        if amount:
            self._post(ledger.move(ledger.TxnKind.REFUND, self.terms.currency, ledger.escrow(self.id),
                                   ledger.payments(self.buyer_id), amount, self.id, memo))
            self.escrow -= amount
            self.refunded += amount
        return amount

    def _cancel(self, now: datetime, by: Role, reason: str, refund: int | None = None) -> None:
        if self.state is S.ACCEPTED:  # released to the seller's pending balance: take the refund back from it
            refund = self._claw_back(self.terms.total if refund is None else refund)
            net = self.to_seller
        else:
            refund = self._refund(self.escrow if refund is None else refund, "cancelled")
            net, _ = self._release(now)
        self.state, self.ended_at = S.CANCELLED, now
        self.problem = self.cancellation = self.time_request = None
        self.accept_by = self.review_ends_at = self.final_work_due_at = None
        self._start_clearance(now)
        self._emit(ev.OrderCancelled, now, by=by, reason=reason, refund=refund, to_seller=net,
                   currency=self.terms.currency)

    def _claw_back(self, refund: int) -> int:
        """Refund from released, uncleared earnings: the seller keeps the rest, less the fee on it."""
        kept = self.terms.total - refund
        kept_fee = fee(kept, self.terms.fee_bps)
        from_pending, from_fees = self.pending - (kept - kept_fee), self.fees - kept_fee
        postings = [ledger.Posting(ledger.pending(self.seller_id, self.id), -from_pending),
                    ledger.Posting(ledger.FEES, -from_fees), ledger.Posting(ledger.payments(self.buyer_id), refund)]
        if refund:
            self._post(ledger.Transaction(ledger.TxnKind.REFUND, self.terms.currency,
                                          tuple(p for p in postings if p.amount), self.id, "cancelled after release"))
        self.pending -= from_pending
        self.to_seller -= from_pending
        self.fees -= from_fees
        self.refunded += refund
        return refund

    def _resume(self, now: datetime) -> None:
        """Lift the pause: every running deadline moves on by the time the order was paused."""
        assert self.problem
        paused = now - self.problem.at
        self.problem = None
        shift = _shifter(paused)
        self.accept_by, self.due_at = shift(self.accept_by), shift(self.due_at)
        self.reminded_for, self.late_for = shift(self.reminded_for), shift(self.late_for)
        self.late_cancel_for, self.review_ends_at = shift(self.late_cancel_for), shift(self.review_ends_at)
        self.final_work_due_at, self.overdue_for = shift(self.final_work_due_at), shift(self.overdue_for)
        if self.time_request:
            self.time_request = replace(self.time_request, answer_by=self.time_request.answer_by + paused)
        if self.cancellation:
            self.cancellation = replace(self.cancellation, answer_by=self.cancellation.answer_by + paused)

    def _extend(self, extra: timedelta, now: datetime) -> None:
        if extra <= timedelta(0):
            raise Refused("Say by how long to extend, such as 2d or 12h.", field="extra")
        if extra > MAX_DURATION:
            raise Refused(f"An extension is at most {format_duration(MAX_DURATION)}.")
        if self.problem:
            self._resume(now)
        if self.state is S.IN_PROGRESS and self.due_at:
            self.extended += extra
            self._set_due(self.due_at + extra, now)
        elif self.state is S.DELIVERED and self.review_ends_at:
            self.review_ends_at += extra
        elif self.state is S.ACCEPTED and self.final_work_due_at:
            self.final_work_due_at += extra
        elif self.state is S.AWAITING_ACCEPTANCE and self.accept_by:
            self.accept_by += extra
        else:
            raise Refused(f"Order {self.id} is {self.state.label}: it has no deadline to extend.")

    def _post(self, txn: ledger.Transaction) -> None:
        self.transactions.append(txn)

    def _emit(self, kind: type[ev.OrderEvent], now: datetime, **fields: Any) -> None:
        self.events.append(kind(community_id=self.community_id, at=now, order_id=self.id, title=self.terms.title,
                                buyer_id=self.buyer_id, seller_id=self.seller_id, state=self.state, **fields))


def _shifter(delta: timedelta) -> Callable[[datetime | None], datetime | None]:
    return lambda moment: moment + delta if moment else None


def _text_limit(text: str, what: str) -> None:
    if len(text) > MAX_TEXT:
        raise Refused(f"{what} is at most {MAX_TEXT} characters; this one has {len(text)}.")


def _needs_time_request(order: Order, role: Role, now: datetime) -> str | None:
    return None if order.time_request else "There is no request for more time to answer."


def _no_time_request(order: Order, role: Role, now: datetime) -> str | None:
    if order.time_request:
        return "A request for more time is already waiting for the buyer's answer."
    return None


def _no_problem(order: Order, role: Role, now: datetime) -> str | None:
    return "A problem report is already open on this order." if order.problem else None


def _has_problem(order: Order, role: Role, now: datetime) -> str | None:
    return None if order.problem else "There is no open problem report."


def _deliveries_left(order: Order, role: Role, now: datetime) -> str | None:
    if order.deliveries_left > 0:
        return None
    used = plural(order.terms.deliveries, "delivery", "deliveries", every=True).capitalize()
    return (f"{used} of order {order.id} {'is' if order.terms.deliveries == 1 else 'are'} used: accept the delivery, "
            "or report a problem.")


def _review_room(order: Order, role: Role, now: datetime) -> str | None:
    if order.review_extended >= order.policy.max_review_extension:
        return "The review time has been extended as far as this community allows."
    return None


def _no_review(order: Order, role: Role, now: datetime) -> str | None:
    return "You have already left your review: a review is left once." if order.review else None


def _can_respond(order: Order, role: Role, now: datetime) -> str | None:
    if not order.review:
        return "There is no review to respond to yet."
    return "You have already responded to this review: you can respond once." if order.review.reply else None


def _no_cancellation(order: Order, role: Role, now: datetime) -> str | None:
    return "A cancellation request is already waiting for an answer." if order.cancellation else None


def _has_cancellation(order: Order, role: Role, now: datetime) -> str | None:
    return None if order.cancellation else "There is no cancellation request to answer."


def _late_enough(order: Order, role: Role, now: datetime) -> str | None:
    at = order.late_cancel_at
    if at and now >= at:
        return None
    late = format_duration(order.policy.late_cancel_after)
    when = f" (from {at:%Y-%m-%d %H:%M} UTC)" if at else ""
    return f"You can cancel on your own once the order is {late} past its due date{when}."


def _final_work_owed(order: Order, role: Role, now: datetime) -> str | None:
    return "The final work has already been sent." if order.final_work else None


_MAX_CATCH_UP = 64  # deadlines one order can have come due at once, with every clearance tranche

_CONDITIONS: dict[Action, Callable[[Order, Role, datetime], str | None]] = {
    Action.ANSWER_TIME: _needs_time_request,
    Action.REQUEST_TIME: _no_time_request,
    Action.REPORT_PROBLEM: _no_problem,
    Action.WITHDRAW_PROBLEM: _has_problem,
    Action.REQUEST_MODIFICATION: _deliveries_left,
    Action.DELIVER: _deliveries_left,
    Action.EXTEND_REVIEW: _review_room,
    Action.LEAVE_REVIEW: _no_review,
    Action.RESPOND_TO_REVIEW: _can_respond,
    Action.REQUEST_CANCELLATION: _no_cancellation,
    Action.ANSWER_CANCELLATION: _has_cancellation,
    Action.CANCEL_LATE: _late_enough,
    Action.SEND_FINAL_WORK: _final_work_owed,
    Action.ALREADY_SENT: _final_work_owed,
}

_TIMER_EFFECTS: dict[TimerKind, Callable[[Order, datetime], None]] = {
    TimerKind.ACCEPTANCE: Order._expire,
    TimerKind.REMINDER: Order._remind,
    TimerKind.LATE: Order._flag_late,
    TimerKind.LATE_CANCEL: Order._open_late_cancel,
    TimerKind.TIME_REQUEST: Order._grant_time,
    TimerKind.REVIEW: Order._auto_accept,
    TimerKind.FINAL_WORK: Order._flag_overdue,
    TimerKind.CANCELLATION: Order._auto_cancel,
    TimerKind.CLEARANCE: Order._clear,
}
