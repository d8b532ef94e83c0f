"""A hypothesis state machine over orders, actions, clock moves and restarts, on a real SQLite file.

Every step is one of: place an order (from a listing or a custom offer), try an action on an order as
some actor (most are refused, which is fine), move a controlled clock and fire the due timers, withdraw
and pay out earnings, change the community's policy, or restart (a new Database and Engine on the same
file). After every step the invariants below are checked by reading the database with SQL:

1. every order only moved along the lifecycle's legal moves (each event's state, and the state now
   against the state after the previous step, through the closure of LEGAL_MOVES);
2. every ledger transaction sums to zero;
3. the balances table is the sum of the ledger entries of each account;
4. the escrow account of an order holds exactly `order.escrow`, and nothing once the order has ended;
5. no balance is negative but buyers' "payments:" accounts;
6. a seller's money becomes available only through a clearance, at or after the order ended plus the
   clearance period;
7. the timers table holds exactly each order's deadlines, and after fire_due() none is due; a timer
   fires at its exact moment and not a second earlier.
Besides: a retried request (same key) has one effect; the state and paused columns match the order
document; every order's money adds up (escrow + refunded + to seller + fees = total + tips); pending
earnings of an ended order always have a clearance deadline; withdrawals match the ledger.

Run longer with GIGROOM_HYPOTHESIS_PROFILE=long.
"""

import atexit
import json
import os
import shutil
import tempfile
import uuid
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule
from sqlalchemy import func, select

from adapters.db import codec
from adapters.db.connect import Database, connect
from adapters.db.migrate import upgrade
from adapters.db.tables import BalanceRow, LedgerEntryRow, LedgerTxnRow, OrderRow, OutboxRow, TimerRow, WithdrawalRow
from core import commands as c
from core import ledger
from core.actor import Actor
from core.community import Withdrawal, WithdrawalState
from core.errors import Refused
from core.lifecycle import ENDED, LEGAL_MOVES, RULE, Action, OrderState, Role, is_legal
from core.order import Order
from core.order_parts import DeliveryKind, FileRef, Resolution, TimerKind
from tests.market import FILE, SERVICE, Market

S = OrderState

PROFILES = {
    "default": settings(max_examples=40, stateful_step_count=40, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]),
    "long": settings(max_examples=400, stateful_step_count=80, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]),
}
PROFILE = os.environ.get("GIGROOM_HYPOTHESIS_PROFILE", "default")
if PROFILE == "long":  # a bench run: well past pytest-timeout's 300 s
    pytestmark = pytest.mark.timeout(3 * 3600)


def _closure(moves: frozenset[tuple[OrderState, OrderState]]) -> dict[OrderState, frozenset[OrderState]]:
    """Each state's reachable states in one or more legal moves, itself included."""
    reach = {s: {s} | {b for a, b in moves if a == s} for s in S}
    changed = True
    while changed:
        changed = False
        for s in S:
            more = set().union(*(reach[t] for t in reach[s]))
            if not more <= reach[s]:
                reach[s] |= more
                changed = True
    return {s: frozenset(r) for s, r in reach.items()}


REACHABLE = _closure(LEGAL_MOVES)

# ---- a migrated SQLite file, made once per process and copied for every example ------------------------
_TEMPLATE: list[Path] = []


def _template() -> Path:
    if not _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="gigroom-stateful-template-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "gigroom.db"
        database = connect(f"sqlite:///{path}")
        upgrade(database)
        database.dispose()
        _TEMPLATE.append(path)
    return _TEMPLATE[0]


def fresh_sqlite_file() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="gigroom-stateful-"))
    path = folder / "gigroom.db"
    shutil.copy(_template(), path)
    return path


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


# ---- the actions, each a command built from drawn parameters --------------------------------------------
ACTORS = ("buyer", "seller", "admin", "stranger", "outsider")
NOT_FILE = FileRef("huge.bin", 6 * 1024**3, "cd" * 32, "cd" * 32)  # over the 5 GB limit


Built = tuple[type[c.OrderCommand], dict[str, Any]]


def _pick(data: st.DataObject, good: bool, name: str, valid: Any, strategy: st.SearchStrategy[Any]) -> Any:
    """A parameter: any value the strategy gives, or in good mode one an honest user would give."""
    return data.draw(st.just(valid) if good else strategy, name)


def _deliver_fields(data: st.DataObject, order: Order, good: bool) -> dict[str, Any]:
    with_file = data.draw(st.booleans(), "with_file")
    return {
        "description": _pick(data, good, "description", "Here is the work",
                             st.sampled_from(["Here is the work", "Here is the work", "  "])),
        "files": _pick(data, good, "files", (FILE,) if with_file else (),
                       st.sampled_from([(FILE,), (FILE,), (), (NOT_FILE,)])),
        "links": _pick(data, good, "links", (), st.sampled_from([(), ("https://example.com/work",), ("ftp:/nope",)])),
        "confirm_no_file": _pick(data, good, "confirm_no_file", not with_file, st.booleans()),
        "from_draft": _pick(data, good, "from_draft", order.draft is not None and data.draw(st.booleans()),
                            st.booleans()),
    }


def _submit(data: st.DataObject, order: Order, good: bool) -> Built:
    n = len(order.terms.questions)
    answers = _pick(data, good, "answers", ("Acme",) * n,
                    st.sampled_from([("Acme",) * n, ("Acme",) * n, ("Acme",) * (n + 1), (" ",) * n]))
    return c.SubmitRequirements, {"answers": answers}


def _deliver(data: st.DataObject, order: Order, good: bool) -> Built:
    kind = data.draw(st.sampled_from(DeliveryKind), "kind")
    return c.DeliverOrder, {"kind": kind, **_deliver_fields(data, order, good)}


def _save_draft(data: st.DataObject, order: Order, good: bool) -> Built:
    f = _deliver_fields(data, order, good)
    return c.SaveDraft, {"description": f["description"], "files": f["files"], "links": f["links"],
                         "kind": data.draw(st.sampled_from(DeliveryKind), "kind")}


def _send_final(data: st.DataObject, order: Order, good: bool) -> Built:
    return c.SendFinalWork, _deliver_fields(data, order, good)


HOURS = st.sampled_from([timedelta(minutes=30), timedelta(hours=1), timedelta(hours=12), timedelta(days=2),
                         timedelta(days=7), timedelta(days=31), timedelta(0)])
GOOD_HOURS = st.sampled_from([timedelta(hours=1), timedelta(hours=12), timedelta(days=2)])


def _resolve(data: st.DataObject, order: Order, good: bool) -> Built:
    how = data.draw(st.sampled_from(["resume", "extend", "cancel full", "cancel partial", "complete"]), "how")
    if how == "extend":
        return c.Resolve, {"resolution": Resolution.EXTEND, "extra": data.draw(GOOD_HOURS if good else HOURS, "extra")}
    if how == "cancel full":
        return c.Resolve, {"resolution": Resolution.CANCEL, "note": "refund"}
    if how == "cancel partial":
        refunds = st.integers(0, order.escrow) if good else (
            st.integers(-1, order.terms.total + 1) | st.sampled_from([0, order.escrow // 2, order.escrow]))
        return c.Resolve, {"resolution": Resolution.CANCEL, "refund": data.draw(refunds, "refund")}
    return c.Resolve, {"resolution": Resolution(how)}


def _simple(command: type[c.OrderCommand], **fields: tuple[Any, st.SearchStrategy[Any]]):  # type: ignore[no-untyped-def]
    """A command whose fields are each (a valid value, any value)."""
    def build(data: st.DataObject, order: Order, good: bool) -> Built:
        return command, {name: _pick(data, good, name, valid, strategy) for name, (valid, strategy) in fields.items()}
    return build


TEXT = ("Looks good", st.sampled_from(["Looks good", "Looks good", "", "x" * 5001]))
# name: (the lifecycle action, a builder of the command)
ACTIONS: dict[str, tuple[Action, Any]] = {
    "submit requirements": (Action.SUBMIT_REQUIREMENTS, _submit),
    "cancel": (Action.CANCEL, _simple(c.CancelOrder, reason=TEXT)),
    "accept order": (Action.ACCEPT_ORDER, _simple(c.AcceptOrder)),
    "decline order": (Action.DECLINE_ORDER, _simple(c.DeclineOrder, reason=TEXT)),
    "save draft": (Action.SAVE_DRAFT, _save_draft),
    "deliver": (Action.DELIVER, _deliver),
    "request time": (Action.REQUEST_TIME, _simple(c.RequestMoreTime, extra=(timedelta(days=1), HOURS), reason=TEXT)),
    "answer time": (Action.ANSWER_TIME, _simple(c.AnswerTimeRequest, approve=(True, st.booleans()))),
    "report problem": (Action.REPORT_PROBLEM, _simple(c.ReportProblem, reason=TEXT)),
    "withdraw problem": (Action.WITHDRAW_PROBLEM, _simple(c.WithdrawProblem)),
    "accept delivery": (Action.ACCEPT_DELIVERY, _simple(c.AcceptDelivery)),
    "request modification": (Action.REQUEST_MODIFICATION, _simple(c.RequestModification, message=TEXT)),
    "extend review": (Action.EXTEND_REVIEW, _simple(c.ExtendReview, extra=(timedelta(days=1), HOURS))),
    "send final work": (Action.SEND_FINAL_WORK, _send_final),
    "already sent": (Action.ALREADY_SENT, _simple(c.ConfirmAlreadySent)),
    "review": (Action.LEAVE_REVIEW, _simple(c.LeaveReview, rating=(5, st.integers(0, 6)), text=TEXT)),
    "respond": (Action.RESPOND_TO_REVIEW, _simple(c.RespondToReview, text=TEXT)),
    "request cancellation": (Action.REQUEST_CANCELLATION, _simple(c.RequestCancellation, reason=TEXT)),
    "answer cancellation": (Action.ANSWER_CANCELLATION, _simple(c.AnswerCancellation, agree=(True, st.booleans()))),
    "cancel late": (Action.CANCEL_LATE, _simple(c.CancelLateOrder)),
    "tip": (Action.TIP, _simple(c.Tip, amount=(500, st.sampled_from([500, 1, 0, -5, 1999])))),
    "resolve": (Action.RESOLVE, _resolve),
    "post message": (Action.POST_MESSAGE, _simple(c.PostMessage, text=TEXT)),
}
# The actions that take an order forward along the happy path, by state.
FORWARD = {
    S.AWAITING_REQUIREMENTS: ("submit requirements",),
    S.AWAITING_ACCEPTANCE: ("accept order",),
    S.IN_PROGRESS: ("deliver",),
    S.DELIVERED: ("accept delivery", "request modification"),
    S.ACCEPTED: ("already sent", "send final work", "review"),
    S.COMPLETED: ("review", "respond", "tip"),
}
PEOPLE = (Role.BUYER, Role.SELLER, Role.ADMIN)
BY_ACTION = {action: name for name, (action, _) in ACTIONS.items()}

DELTAS = (st.integers(1, 59).map(lambda n: timedelta(minutes=n))
          | st.integers(1, 47).map(lambda n: timedelta(hours=n))
          | st.integers(1, 6).map(lambda n: timedelta(days=n))
          | st.sampled_from([timedelta(hours=24), timedelta(hours=48), timedelta(hours=72), timedelta(days=5)]))

POLICY_CHANGES = st.sampled_from([
    ("review_window_starts", "from_due_date"), ("review_window_starts", "from_delivery"),
    ("final_work_waits_for_review", "no"), ("final_work_waits_for_review", "yes"),
    ("fee_bps", "0"), ("fee_bps", "1000"), ("fee_bps", "9999"), ("fee_bps", "2500"),
    ("clearance", "0m"), ("clearance", "5d"), ("clearance", "1h"),
    ("due_reminder", "0m"), ("due_reminder", "24h"), ("acceptance_window", "1h"),
    ("late_cancel_after", "0m"), ("review_window", "72h"), ("cancellation_window", "1h"),
    # windows of zero: the deadline is due the moment it is set
    ("acceptance_window", "0m"), ("review_window", "0m"), ("final_work_window", "0m"),
    ("cancellation_window", "0m"), ("time_request_window", "0m"), ("modification_time", "0m"),
    ("max_review_extension", "0m"), ("due_reminder", "30d"),
])


class OrderMachine(RuleBasedStateMachine):
    orders = Bundle("orders")
    withdrawals = Bundle("withdrawals")

    def __init__(self) -> None:
        super().__init__()
        self.path = fresh_sqlite_file()
        self.clock = Clock(datetime(2030, 1, 1, 9, 0, tzinfo=UTC))
        self.database: Database | None = None
        self._open()
        self.states: dict[str, OrderState] = {}  # each order's state after the previous step
        self.last_outbox = 0

    # ---- set-up and restarts ----------------------------------------------------------------------------
    def _open(self) -> None:
        self.database = connect(f"sqlite:///{self.path}")
        self.market = Market(self.database, clock=self.clock)
        other = self.market.engine.ensure_community("shell", "other", "Other")
        m = self.market
        self.actors = {"buyer": m.buyer, "seller": m.seller, "admin": m.admin, "stranger": m.stranger,
                       "outsider": Actor(other.id, m.buyer.user_id)}

    def teardown(self) -> None:
        if self.database is not None:
            self.database.dispose()
        shutil.rmtree(self.path.parent, ignore_errors=True)

    @rule()
    def restart(self) -> None:
        assert self.database is not None
        self.database.dispose()
        self.database = None
        self._open()

    # ---- helpers ---------------------------------------------------------------------------------------
    def _try(self, command: c.Command, what: str) -> bool:
        try:
            self.market.engine.handle(command)
        except Refused as refused:
            assert refused.reason.strip(), f"{what}: a refusal without a reason"
            event(f"refused: {what}")
            return False
        event(f"done: {what}")
        return True

    def _rows(self, query: Any) -> list[Any]:
        assert self.database is not None
        with self.database.reader.connect() as connection:
            return list(connection.execute(query))

    def _orders(self) -> dict[str, tuple[Any, Order]]:
        return {row.id: (row, codec.load(Order, row.data)) for row in self._rows(select(OrderRow))}

    def _fingerprint(self) -> tuple[Any, ...]:
        """Everything a replayed request must leave alone."""
        return (
            tuple((r.id, r.version, r.data) for r in self._rows(select(OrderRow).order_by(OrderRow.id))),
            tuple(self._rows(select(BalanceRow).order_by(BalanceRow.community_id, BalanceRow.account))),
            tuple(self._rows(select(TimerRow).order_by(TimerRow.id))),
            self._rows(select(func.count()).select_from(LedgerTxnRow)),
            self._rows(select(func.count()).select_from(OutboxRow)),
        )

    # ---- rules -----------------------------------------------------------------------------------------
    @initialize(target=orders, requirements=st.booleans(), deliveries=st.integers(1, 2), days=st.integers(1, 4),
                via_offer=st.booleans(), policy=st.lists(POLICY_CHANGES, max_size=3))
    def first_order(self, requirements: bool, deliveries: int, days: int, via_offer: bool,
                    policy: list[tuple[str, str]]) -> Any:
        for setting, value in policy:
            self.market.do(c.SetPolicy, self.market.admin, setting=setting, value=value)
        return self.place_order(requirements, deliveries, days, set(), via_offer, "buyer")

    @rule(target=orders, requirements=st.booleans(), deliveries=st.integers(1, 2), days=st.integers(1, 4),
          extras=st.sets(st.sampled_from(["nda", "fast", "rev"]), max_size=2) | st.just({"bogus"}),
          via_offer=st.booleans(), placer=st.sampled_from(["buyer", "buyer", "buyer", "stranger", "admin", "seller"]))
    def place_order(self, requirements: bool, deliveries: int, days: int, extras: set[str], via_offer: bool,
                    placer: str) -> Any:
        m = self.market
        service = replace(SERVICE, deliveries=deliveries, delivery_days=days,
                          questions=SERVICE.questions if requirements else ())
        chosen = tuple(sorted(extras))
        try:
            if via_offer:
                offer = m.do(c.MakeOffer, m.seller, buyer_id=self.actors[placer].user_id, service=service,
                             extras=chosen).ref
                order_id = m.do(c.AnswerOffer, self.actors[placer], offer_id=offer, accept=True).ref
            else:
                listing = m.do(c.CreateListing, m.seller, service=service).ref
                order_id = m.do(c.PlaceOrder, self.actors[placer], listing_id=listing, extras=chosen).ref
        except Refused:
            event("refused: place order")
            return multiple()
        event("done: place order")
        return order_id

    @rule(order_id=orders, name=st.sampled_from(sorted(ACTIONS)), actor=st.sampled_from(ACTORS),
          retry=st.booleans(), data=st.data())
    def act(self, order_id: str, name: str, actor: str, retry: bool, data: st.DataObject) -> None:
        """Any action by anyone: refusals are expected."""
        self._act(order_id, name, self.actors[actor], retry, data)

    # progress is three rules, so that it runs about three times as often as any other rule
    @rule(order_id=orders, retry=st.booleans(), data=st.data())
    def progress(self, order_id: str, retry: bool, data: st.DataObject) -> None:
        self._progress(order_id, retry, data)

    @rule(order_id=orders, retry=st.booleans(), data=st.data())
    def progress_more(self, order_id: str, retry: bool, data: st.DataObject) -> None:
        self._progress(order_id, retry, data)

    @rule(order_id=orders, retry=st.booleans(), data=st.data())
    def progress_further(self, order_id: str, retry: bool, data: st.DataObject) -> None:
        self._progress(order_id, retry, data)

    def _progress(self, order_id: str, retry: bool, data: st.DataObject) -> None:
        """An action the order's state allows, by someone whose role may take it: orders move on."""
        order = self.market.get(order_id)
        names = sorted(BY_ACTION[r.action] for r in RULE.values()
                       if order.state in r.sources and r.action in BY_ACTION and r.roles & set(PEOPLE))
        if not names:
            event("progress: the order has ended")
            return
        if order.problem:  # what is owed first: the open question on the order
            owed: tuple[str, ...] = ("withdraw problem", "resolve")
        elif order.cancellation:
            owed = ("answer cancellation",)
        elif order.time_request:
            owed = ("answer time",)
        else:
            owed = FORWARD[order.state]
        forward = data.draw(st.integers(0, 9), "forward") < 5
        name = data.draw(st.sampled_from(owed if forward else names), "action")
        role = data.draw(st.sampled_from(sorted(RULE[ACTIONS[name][0]].roles & set(PEOPLE))), "role")
        people = {a.user_id: a for a in self.actors.values() if a.community_id == self.market.community.id}
        actor = {Role.BUYER: people[order.buyer_id], Role.SELLER: people[order.seller_id],
                 Role.ADMIN: self.market.admin}[role]
        self._act(order_id, name, actor, retry, data, good=data.draw(st.integers(0, 9), "good") < 8)

    def _act(self, order_id: str, name: str, actor: Actor, retry: bool, data: st.DataObject,
             good: bool = False) -> None:
        _, build = ACTIONS[name]
        order = self.market.get(order_id)
        command_type, fields = build(data, order, good)
        key = f"req-{uuid.uuid4().hex}" if retry else None
        command = command_type(actor=actor, order_id=order_id, key=key, **fields)
        done = self._try(command, name)
        if retry:  # a double click or a retried request: one outcome
            before = self._fingerprint()
            try:
                outcome = self.market.engine.handle(command)
            except Refused:
                assert not done, f"{name}: the retry of a handled request was refused"
            else:
                assert done, f"{name}: refused, then done on a retry at the same moment"
                assert outcome.replayed and not outcome.events, f"{name}: a retried request ran again"
            assert self._fingerprint() == before, f"{name}: a retried request changed the database"

    @rule(delta=DELTAS)
    def advance_and_fire(self, delta: timedelta) -> None:
        self._advance_and_fire(delta)

    @rule(delta=DELTAS)
    def advance_and_fire_again(self, delta: timedelta) -> None:  # a second rule: time moves twice as often
        self._advance_and_fire(delta)

    def _advance_and_fire(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        fired = self.market.engine.fire_due()
        event(f"timers fired: {min(fired, 3)}{'+' if fired > 3 else ''}")
        now = self.clock.now()
        overdue = self._rows(select(TimerRow).where(TimerRow.due_at <= now))
        assert not overdue, f"timers still due after fire_due() at {now}: {overdue}"

    @rule(early=st.sampled_from([timedelta(0), timedelta(0), timedelta(seconds=1), timedelta(minutes=1)]))
    def advance_to_the_next_deadline(self, early: timedelta) -> None:
        """To the very moment the next timer is due (it fires), or just before it (nothing may fire yet)."""
        due = self._rows(select(func.min(TimerRow.due_at)))[0][0]
        if due is None:
            event("no deadline to move to")
            return
        if due - early > self.clock.now():
            self.clock.at = due - early
        fired = self.market.engine.fire_due()
        if due <= self.clock.now():
            assert fired >= 1, f"the timer due at {due} did not fire at {self.clock.now()}"
        else:
            assert fired == 0, f"{fired} timers fired at {self.clock.now()}, before the first was due at {due}"
        overdue = self._rows(select(TimerRow).where(TimerRow.due_at <= self.clock.now()))
        assert not overdue, f"timers still due after fire_due() at {self.clock.now()}: {overdue}"

    @rule(delta=DELTAS)
    def advance_without_firing(self, delta: timedelta) -> None:
        """The bot is slow to poll, or down: people act while deadlines have passed unfired."""
        self.clock.advance(delta)

    @rule(target=withdrawals, how=st.sampled_from(["all", "half", "one", "too much", "zero"]),
          who=st.sampled_from(["seller", "seller", "buyer"]))
    def withdraw(self, how: str, who: str) -> Any:
        m, actor = self.market, self.actors[who]
        have = m.balance(ledger.available(actor.user_id))
        amount = {"all": have, "half": have // 2, "one": 1, "too much": have + 1, "zero": 0}[how]
        try:
            withdrawal_id = m.do(c.RequestWithdrawal, actor, amount=amount).ref
        except Refused:
            event("refused: withdraw")
            assert not 0 < amount <= have, f"a withdrawal of {amount} of {have} available was refused"
            return multiple()
        assert 0 < amount <= have, f"a withdrawal of {amount} with {have} available was accepted"
        event("done: withdraw")
        return withdrawal_id

    @rule(withdrawal_id=withdrawals, who=st.sampled_from(["admin", "admin", "seller"]))
    def pay_withdrawal(self, withdrawal_id: str, who: str) -> None:
        self._try(c.PayWithdrawal(actor=self.actors[who], withdrawal_id=withdrawal_id, reference="bank"), "pay out")

    @rule(change=POLICY_CHANGES, who=st.sampled_from(["admin", "admin", "seller"]))
    def set_policy(self, change: tuple[str, str], who: str) -> None:
        setting, value = change
        self._try(c.SetPolicy(actor=self.actors[who], setting=setting, value=value), "set policy")

    # ---- invariants ------------------------------------------------------------------------------------
    @invariant()
    def states_move_legally(self) -> None:
        orders = self._orders()
        chains: dict[str, list[OrderState]] = defaultdict(list)
        for row in self._rows(select(OutboxRow).where(OutboxRow.id > self.last_outbox).order_by(OutboxRow.id)):
            self.last_outbox = row.id
            event(f"event: {row.type}")
            if row.order_id is not None:
                chains[row.order_id].append(S(json.loads(row.payload)["state"]))
        for order_id, (row, order) in orders.items():
            assert row.state == order.state.value, f"{order_id}: state column {row.state}, document {order.state}"
            assert row.paused == (order.problem is not None), f"{order_id}: paused column is wrong"
            before = self.states.get(order_id)
            if before is None:
                assert order_id in chains, f"{order_id}: placed without an event"
                before = chains[order_id][0]
                assert before in {S.AWAITING_REQUIREMENTS, S.AWAITING_ACCEPTANCE}, f"{order_id}: placed {before}"
            assert order.state in REACHABLE[before], f"{order_id}: {before} -> {order.state} is not a legal move"
            previous = before
            for state in chains.get(order_id, []):
                assert is_legal(previous, state), f"{order_id}: event chain moves {previous} -> {state}"
                previous = state
            assert previous == order.state, f"{order_id}: the last event says {previous}, the order is {order.state}"
            if order.state != before:
                event(f"move {before.value} -> {order.state.value}")
            self.states[order_id] = order.state
        assert set(chains) <= set(orders), "events for orders that do not exist"

    @invariant()
    def ledger_is_balanced_and_matches_balances(self) -> None:
        unbalanced = self._rows(select(LedgerEntryRow.txn_id, func.sum(LedgerEntryRow.amount))
                                .group_by(LedgerEntryRow.txn_id).having(func.sum(LedgerEntryRow.amount) != 0))
        assert not unbalanced, f"ledger transactions that do not sum to zero: {unbalanced}"
        txns = {r.id: r for r in self._rows(select(LedgerTxnRow))}
        entries = self._rows(select(LedgerEntryRow))
        per_txn: dict[int, int] = defaultdict(int)
        sums: dict[tuple[str, str, str], int] = defaultdict(int)
        for e in entries:
            txn = txns[e.txn_id]
            assert (e.currency, e.community_id) == (txn.currency, txn.community_id), f"entry {e.id} mismatches txn"
            assert e.amount != 0, f"entry {e.id} is empty"
            per_txn[e.txn_id] += 1
            sums[(e.community_id, e.account, e.currency)] += e.amount
        assert all(per_txn.get(t, 0) >= 2 for t in txns), "a ledger transaction with fewer than two entries"
        balances = {(b.community_id, b.account, b.currency): b.balance for b in self._rows(select(BalanceRow))}
        assert {k: v for k, v in balances.items() if v or k in sums} == dict(sums), \
            f"balances {balances} differ from the sums of entries {dict(sums)}"
        negative = {k: v for k, v in balances.items() if v < 0 and not ledger.is_external(k[1])}
        assert not negative, f"negative balances: {negative}"

    @invariant()
    def order_money_matches_the_ledger(self) -> None:
        balances = {b.account: b.balance for b in self._rows(select(BalanceRow))}
        for order_id, (_, order) in self._orders().items():
            escrow = balances.get(ledger.escrow(order_id), 0)
            assert escrow == order.escrow, f"{order_id}: escrow account {escrow}, order.escrow {order.escrow}"
            if order.state in ENDED:
                assert escrow == 0, f"{order_id} is {order.state} with {escrow} still in escrow"
            pending = balances.get(ledger.pending(order.seller_id, order_id), 0)
            assert pending == order.pending, f"{order_id}: pending account {pending}, order.pending {order.pending}"
            paid_in = order.terms.total + order.tips
            out = order.escrow + order.refunded + order.to_seller + order.fees
            assert paid_in == out, f"{order_id}: {paid_in} paid in, {out} accounted for"
            if order.state not in ENDED:
                assert order.ended_at is None, f"{order_id}: {order.state} with an end time"
            else:
                assert order.ended_at is not None, f"{order_id}: {order.state} without an end time"
                if order.pending:  # what the seller earned will clear, and not before the clearance period
                    clears_at = order.deadlines().get(TimerKind.CLEARANCE)
                    assert clears_at is not None, f"{order_id}: {order.pending} pending forever"
                    assert clears_at >= order.ended_at + order.policy.clearance, \
                        f"{order_id}: clears at {clears_at}, ended {order.ended_at} + {order.policy.clearance}"

    @invariant()
    def funds_clear_only_after_the_clearance_period(self) -> None:
        orders = {order_id: order for order_id, (_, order) in self._orders().items()}
        txns = {r.id: r for r in self._rows(select(LedgerTxnRow))}
        for e in self._rows(select(LedgerEntryRow).where(LedgerEntryRow.account.like("available:%"))):
            txn = txns[e.txn_id]
            if e.amount > 0:
                assert txn.kind == ledger.TxnKind.CLEARANCE, f"available money from a {txn.kind} transaction"
        for txn in txns.values():
            if txn.kind != ledger.TxnKind.CLEARANCE:
                continue
            order = orders[txn.order_id]
            assert order.state in {S.COMPLETED, S.CANCELLED}, f"{order.id}: cleared while {order.state}"
            assert order.ended_at is not None
            assert txn.at >= order.ended_at + order.policy.clearance, \
                f"{order.id}: cleared at {txn.at}, ended {order.ended_at} + clearance {order.policy.clearance}"

    @invariant()
    def withdrawals_match_the_ledger(self) -> None:
        balances = {b.account: b.balance for b in self._rows(select(BalanceRow))}
        requested: dict[str, int] = defaultdict(int)
        paid: dict[str, int] = defaultdict(int)
        for row in self._rows(select(WithdrawalRow)):
            w = codec.load(Withdrawal, row.data)
            (paid if w.state is WithdrawalState.PAID else requested)[w.seller_id] += w.amount
        for seller in set(requested) | set(paid):
            assert balances.get(ledger.withdrawing(seller), 0) == requested[seller]
            assert balances.get(ledger.paid_out(seller), 0) == paid[seller]

    @invariant()
    def timers_are_the_orders_deadlines(self) -> None:
        rows: dict[str, set[tuple[TimerKind, datetime]]] = defaultdict(set)
        for t in self._rows(select(TimerRow)):
            rows[t.order_id].add((TimerKind(t.kind), t.due_at))
        orders = self._orders()
        assert set(rows) <= set(orders), "timers of orders that do not exist"
        for order_id, (_, order) in orders.items():
            want = set(order.deadlines().items())
            assert rows.get(order_id, set()) == want, \
                f"{order_id} ({order.state}): timers table {sorted(rows.get(order_id, set()))}, deadlines {sorted(want)}"


OrderMachine.TestCase.settings = PROFILES[PROFILE]
TestOrderMachine = OrderMachine.TestCase
