"""Rules of problem reports, admins' resolutions, cancellation requests and cancelling a late order."""

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core import commands as c
from core import events as ev
from core.actor import Owed
from core.engine import Outcome
from core.errors import Refused
from core.lifecycle import OrderState, Role
from core.order_parts import FinalWorkHow, Resolution, TimerKind
from tests.market import FILE, Market, one

S = OrderState
T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)




def report(market: Market, order_id: str, who: Any = None, reason: str = "The seller stopped answering") -> Outcome:
    return market.do(c.ReportProblem, who or market.buyer, order_id=order_id, reason=reason)


def resolve(market: Market, order_id: str, resolution: Resolution, **fields: Any) -> Outcome:
    return market.do(c.Resolve, market.admin, order_id=order_id, resolution=resolution, **fields)


# ---- problem reports -----------------------------------------------------------------------------
@pytest.mark.parametrize("until", [S.IN_PROGRESS, S.DELIVERED, S.ACCEPTED])
def test_either_party_reports_a_problem_while_the_work_is_open(sqlite_market: Market, until: OrderState) -> None:
    m = sqlite_market
    for who, role in ((m.buyer, Role.BUYER), (m.seller, Role.SELLER)):
        order_id = m.order(until=until)
        reported = one(report(m, order_id, who, reason="  Something is wrong  "), ev.ProblemReported)
        assert (reported.by, reported.reason, reported.state) == (role, "Something is wrong", until)
        assert reported.owed_by == ()  # nothing is owed while an admin looks at it
        order = m.get(order_id)
        assert order.problem is not None and order.problem.user_id == who.user_id
        assert order.state is until


def test_only_the_parties_report_a_problem(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.IN_PROGRESS)
    with pytest.raises(Refused, match="Only the buyer or the seller can report a problem"):
        report(sqlite_market, order_id, sqlite_market.admin)


def test_a_problem_report_says_what_the_problem_is(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.IN_PROGRESS)
    with pytest.raises(Refused, match="Describe the problem: an admin reads it to resolve the order"):
        report(sqlite_market, order_id, reason="   ")
    assert sqlite_market.get(order_id).problem is None


@pytest.mark.parametrize("until", [S.AWAITING_ACCEPTANCE, S.COMPLETED])
def test_a_problem_is_reported_only_while_the_work_is_open(sqlite_market: Market, until: OrderState) -> None:
    order_id = sqlite_market.order(until=until)
    with pytest.raises(Refused, match=f"You can't report a problem now: order {order_id} is {until.label}"):
        report(sqlite_market, order_id)


def test_a_paused_order_refuses_the_parties_actions_but_keeps_the_chat(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED)
    report(m, order_id, m.seller)
    paused = f"Order {order_id} is paused while an admin looks at the problem report"
    for who, command, fields in ((m.buyer, c.AcceptDelivery, {}),
                                 (m.buyer, c.RequestModification, {"message": "x"}),
                                 (m.buyer, c.ExtendReview, {"extra": timedelta(days=1)}),
                                 (m.buyer, c.RequestCancellation, {"reason": "x"}),
                                 (m.buyer, c.ReportProblem, {"reason": "me too"})):
        with pytest.raises(Refused, match=paused):
            m.do(command, who, order_id=order_id, **fields)
    assert one(m.do(c.PostMessage, m.buyer, order_id=order_id, text="What happened?"), ev.MessagePosted)
    assert m.get(order_id).state is S.DELIVERED


def test_a_problem_report_pauses_every_timer(market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    order_id = market.order(until=S.IN_PROGRESS)  # due at T0 + 3d
    market.do(c.RequestMoreTime, market.seller, order_id=order_id, extra=timedelta(days=1), reason="Ill")
    market.do(c.RequestCancellation, market.seller, order_id=order_id, reason="Too ill to work")
    assert set(market.get(order_id).deadlines()) == {TimerKind.REMINDER, TimerKind.LATE, TimerKind.LATE_CANCEL,
                                                      TimerKind.TIME_REQUEST, TimerKind.CANCELLATION}
    time_machine.shift(timedelta(hours=1))
    report(market, order_id)
    assert market.get(order_id).deadlines() == {}
    time_machine.shift(timedelta(days=30))
    assert market.fire() == 0
    order = market.get(order_id)
    assert order.state is S.IN_PROGRESS and order.time_request is not None and order.cancellation is not None
    assert (order.late_for, order.reminded_for) == (None, None)
    resumed = one(resolve(market, order_id, Resolution.RESUME, note="Sorted out"), ev.OrderResolved)
    assert (resumed.resolution, resumed.admin_id, resumed.note) == (Resolution.RESUME, "ada", "Sorted out")
    order = market.get(order_id)
    assert order.problem is None
    # every running deadline moved on by the 30 days the order was paused
    assert order.due_at == T0 + timedelta(days=33)
    assert order.time_request is not None and order.time_request.answer_by == T0 + timedelta(days=32)
    assert order.cancellation is not None and order.cancellation.answer_by == T0 + timedelta(days=32)
    assert market.fire() == 0
    time_machine.shift(timedelta(days=1, hours=23))
    assert market.fire() >= 1  # the unanswered cancellation request now goes through
    assert market.get(order_id).state is S.CANCELLED


def test_the_reporter_may_withdraw_a_problem_report(sqlite_market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    report(m, order_id, m.seller)
    time_machine.shift(timedelta(hours=6))
    with pytest.raises(Refused, match="Only whoever reported the problem can withdraw the report"):
        m.do(c.WithdrawProblem, m.buyer, order_id=order_id)
    withdrawn = one(m.do(c.WithdrawProblem, m.seller, order_id=order_id), ev.ProblemWithdrawn)
    assert withdrawn.by is Role.SELLER and withdrawn.owed_by == ("sam",)
    order = m.get(order_id)
    assert order.problem is None and order.due_at == T0 + timedelta(days=3, hours=6)
    with pytest.raises(Refused, match="There is no open problem report"):
        m.do(c.WithdrawProblem, m.seller, order_id=order_id)


# ---- admins' resolutions -------------------------------------------------------------------------
def test_only_admins_resolve_a_problem(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    report(m, order_id)
    for resolution in Resolution:
        for who in (m.buyer, m.seller):
            with pytest.raises(Refused, match="Only the admin can resolve the order"):
                m.do(c.Resolve, who, order_id=order_id, resolution=resolution, extra=timedelta(days=1))
    with pytest.raises(Refused, match=f"Order {order_id} is not yours"):
        m.do(c.Resolve, m.stranger, order_id=order_id, resolution=Resolution.CANCEL)
    assert m.get(order_id).problem is not None


def test_an_admin_resumes_only_a_paused_order(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.IN_PROGRESS)
    with pytest.raises(Refused, match=f"Order {order_id} is not paused: there is nothing to resume"):
        resolve(sqlite_market, order_id, Resolution.RESUME)


def test_an_admin_extends_a_paused_order(sqlite_market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    report(m, order_id, m.seller)
    time_machine.shift(timedelta(hours=10))
    extended = one(resolve(m, order_id, Resolution.EXTEND, extra=timedelta(days=2)), ev.OrderResolved)
    assert (extended.resolution, extended.extra, extended.refund) == (Resolution.EXTEND, timedelta(days=2), 0)
    order = m.get(order_id)
    assert order.problem is None
    assert order.due_at == T0 + timedelta(days=3, hours=10) + timedelta(days=2)  # the pause, then the extension
    assert order.extended == timedelta(days=2)


@pytest.mark.parametrize(("until", "deadline"), [
    (S.AWAITING_ACCEPTANCE, "accept_by"),
    (S.IN_PROGRESS, "due_at"),
    (S.DELIVERED, "review_ends_at"),
    (S.ACCEPTED, "final_work_due_at"),
])
def test_an_admin_extends_the_deadline_that_is_running(sqlite_market: Market, until: OrderState,
                                                       deadline: str) -> None:
    m = sqlite_market
    order_id = m.order(until=until)
    before = getattr(m.get(order_id), deadline)
    resolve(m, order_id, Resolution.EXTEND, extra=timedelta(hours=12))
    assert getattr(m.get(order_id), deadline) == before + timedelta(hours=12)


def test_an_extension_says_by_how_long_and_needs_a_deadline(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    with pytest.raises(Refused, match="Say by how long to extend, such as 2d or 12h"):
        resolve(m, order_id, Resolution.EXTEND)
    with pytest.raises(Refused, match="An extension is at most 3650d"):
        resolve(m, order_id, Resolution.EXTEND, extra=timedelta(days=10**6))
    waiting = m.order()
    with pytest.raises(Refused, match=f"Order {waiting} is awaiting requirements: it has no deadline to extend"):
        resolve(m, waiting, Resolution.EXTEND, extra=timedelta(days=1))


def test_an_admin_cancels_with_a_full_refund(market: Market) -> None:
    order_id = market.order(until=S.DELIVERED)
    report(market, order_id)
    outcome = resolve(market, order_id, Resolution.CANCEL, note="The seller sent someone else's work")
    assert [type(e) for e in outcome.events] == [ev.OrderResolved, ev.OrderCancelled]
    resolved = one(outcome, ev.OrderResolved)
    assert (resolved.resolution, resolved.refund) == (Resolution.CANCEL, 5000)
    cancelled = one(outcome, ev.OrderCancelled)
    assert (cancelled.by, cancelled.refund, cancelled.to_seller) == (Role.ADMIN, 5000, 0)
    assert cancelled.reason == "The seller sent someone else's work"
    order = market.get(order_id)
    assert (order.state, order.problem, order.refunded) == (S.CANCELLED, None, 5000)
    assert market.balance(f"escrow:{order_id}") == 0
    assert market.balance("payments:bea") == 0
    assert market.balance("fees") == 0 and market.balance(f"pending:sam:{order_id}") == 0


def test_an_admin_cancels_with_a_partial_refund(market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    order_id = market.order(until=S.IN_PROGRESS)
    report(market, order_id)
    outcome = resolve(market, order_id, Resolution.CANCEL, refund=2000)
    cancelled = one(outcome, ev.OrderCancelled)
    assert (cancelled.refund, cancelled.to_seller, cancelled.reason) == (2000, 2700, "Cancelled by an admin.")
    assert one(outcome, ev.OrderResolved).refund == 2000
    assert market.balance(f"escrow:{order_id}") == 0
    assert market.balance("payments:bea") == -3000
    assert market.balance(f"pending:sam:{order_id}") == 2700  # the rest goes to the seller, the fee taken
    assert market.balance("fees") == 300
    order = market.get(order_id)
    assert (order.state, order.refunded, order.to_seller, order.fees) == (S.CANCELLED, 2000, 2700, 300)
    assert order.clears_at == T0 + timedelta(days=5)


def test_an_admin_may_refund_nothing(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED)
    cancelled = one(resolve(m, order_id, Resolution.CANCEL, refund=0), ev.OrderCancelled)
    assert (cancelled.refund, cancelled.to_seller) == (0, 4500)
    assert m.balance("payments:bea") == -5000 and m.balance(f"pending:sam:{order_id}") == 4500


@pytest.mark.parametrize("refund", [5001, -1])
def test_a_refund_is_between_nothing_and_the_escrow(sqlite_market: Market, refund: int) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    with pytest.raises(Refused, match=re.escape("The refund is between 0 and 50.00 USD")):
        resolve(m, order_id, Resolution.CANCEL, refund=refund)
    assert m.get(order_id).state is S.IN_PROGRESS and m.balance(f"escrow:{order_id}") == 5000


def test_an_admin_cancels_an_accepted_order_taking_the_refund_back_from_the_sellers_pending_earnings(
        market: Market) -> None:
    order_id = market.order(until=S.ACCEPTED)  # released: 4500 pending for the seller, 500 fee
    report(market, order_id, reason="The final work never came")
    cancelled = one(resolve(market, order_id, Resolution.CANCEL, refund=3000), ev.OrderCancelled)
    # the seller keeps 2000 less the 10% fee on it; the buyer gets 3000 back; the fee on the refund returns too
    assert (cancelled.refund, cancelled.to_seller) == (3000, 1800)
    order = market.get(order_id)
    assert (order.state, order.refunded, order.to_seller, order.fees, order.pending) == (S.CANCELLED, 3000, 1800, 200, 1800)
    assert market.balance(f"pending:sam:{order_id}") == 1800 and market.balance("fees") == 200
    assert market.balance("payments:bea") == -2000


def test_a_full_refund_after_release_leaves_the_seller_nothing_to_clear(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.ACCEPTED)
    resolve(m, order_id, Resolution.CANCEL)
    order = m.get(order_id)
    assert (order.refunded, order.to_seller, order.pending, order.clears_at) == (5000, 0, 0, None)
    assert m.balance(f"pending:sam:{order_id}") == 0 and m.balance("fees") == 0


def test_a_completed_order_cannot_be_cancelled(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.COMPLETED)
    with pytest.raises(Refused, match=f"Nothing to do: order {order_id} is already completed"):
        resolve(m, order_id, Resolution.CANCEL)


def test_an_admin_who_is_a_party_to_the_order_cannot_resolve_it(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    seller_admin = replace(m.seller, is_admin=True)
    with pytest.raises(Refused, match=f"You are a party to order {order_id}: another admin resolves it"):
        m.do(c.Resolve, seller_admin, order_id=order_id, resolution=Resolution.COMPLETE)


@pytest.mark.parametrize("until", [S.AWAITING_REQUIREMENTS, S.AWAITING_ACCEPTANCE])
def test_an_admin_cancels_an_order_before_the_work_starts(sqlite_market: Market, until: OrderState) -> None:
    m = sqlite_market
    order_id = m.order(until=until)
    cancelled = one(resolve(m, order_id, Resolution.CANCEL), ev.OrderCancelled)
    assert cancelled.refund == 5000 and m.get(order_id).state is S.CANCELLED


def test_an_admin_completes_a_paused_order(market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    order_id = market.order(until=S.IN_PROGRESS)
    report(market, order_id, market.seller, reason="The buyer will not accept")
    outcome = resolve(market, order_id, Resolution.COMPLETE, note="Work checked: it was done")
    assert [type(e) for e in outcome.events] == [ev.OrderResolved, ev.OrderCompleted]
    completed = one(outcome, ev.OrderCompleted)
    assert (completed.net, completed.clears_at) == (4500, T0 + timedelta(days=5))
    order = market.get(order_id)
    assert (order.state, order.problem) == (S.COMPLETED, None)
    assert order.final_work is not None and order.final_work.how is FinalWorkHow.ADMIN
    assert market.balance(f"escrow:{order_id}") == 0
    assert market.balance(f"pending:sam:{order_id}") == 4500 and market.balance("fees") == 500


def test_an_admin_completes_an_accepted_order_keeping_its_final_work(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.ACCEPTED)
    one(resolve(m, order_id, Resolution.COMPLETE), ev.OrderCompleted)
    order = m.get(order_id)
    assert order.state is S.COMPLETED and order.final_work is not None
    assert m.balance(f"pending:sam:{order_id}") == 4500 and m.balance("fees") == 500  # released once only


def test_an_order_is_completed_by_an_admin_only_once_the_work_started(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.AWAITING_ACCEPTANCE)
    with pytest.raises(Refused, match="Only an order in progress, delivered or accepted can be completed; this one "
                                      "is awaiting acceptance"):
        resolve(m, order_id, Resolution.COMPLETE)


@pytest.mark.parametrize(("until", "message"), [
    (S.COMPLETED, "Nothing to do: order {} is already completed"),
    (S.DECLINED, "You can't resolve the order now: order {} is declined"),
])
def test_an_ended_order_is_not_resolved_again(sqlite_market: Market, until: OrderState, message: str) -> None:
    m = sqlite_market
    if until is S.DECLINED:
        order_id = m.order(until=S.AWAITING_ACCEPTANCE)
        m.do(c.DeclineOrder, m.seller, order_id=order_id)
    else:
        order_id = m.order(until=until)
    with pytest.raises(Refused, match=message.format(order_id)):
        resolve(m, order_id, Resolution.CANCEL)


# ---- cancellation requests -----------------------------------------------------------------------
def test_either_party_may_ask_the_other_to_cancel(sqlite_market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    for who, other, role in ((m.buyer, "sam", Role.BUYER), (m.seller, "bea", Role.SELLER)):
        order_id = m.order(until=S.IN_PROGRESS)
        asked = one(m.do(c.RequestCancellation, who, order_id=order_id, reason=" Plans changed "),
                    ev.CancellationRequested)
        assert (asked.by, asked.reason, asked.answer_by) == (role, "Plans changed", T0 + timedelta(hours=48))
        assert asked.owed == (Owed(other, "answer the cancellation request"),)


def test_both_parties_agreeing_cancels_with_a_full_refund(market: Market) -> None:
    order_id = market.order(until=S.DELIVERED)
    market.do(c.RequestCancellation, market.buyer, order_id=order_id, reason="Not what I need")
    outcome = market.do(c.AnswerCancellation, market.seller, order_id=order_id, agree=True)
    assert [type(e) for e in outcome.events] == [ev.CancellationAnswered, ev.OrderCancelled]
    answered = one(outcome, ev.CancellationAnswered)
    assert (answered.by, answered.agreed, answered.withdrawn) == (Role.SELLER, True, False)
    cancelled = one(outcome, ev.OrderCancelled)
    assert (cancelled.by, cancelled.refund, cancelled.reason) == (Role.SELLER, 5000, "Both parties agreed to cancel.")
    assert market.get(order_id).state is S.CANCELLED
    assert market.balance(f"escrow:{order_id}") == 0 and market.balance("payments:bea") == 0


def test_the_other_side_may_refuse_a_cancellation_request(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    m.do(c.RequestCancellation, m.seller, order_id=order_id, reason="Too busy")
    refused = one(m.do(c.AnswerCancellation, m.buyer, order_id=order_id, agree=False), ev.CancellationAnswered)
    assert (refused.by, refused.agreed, refused.withdrawn) == (Role.BUYER, False, False)
    order = m.get(order_id)
    assert (order.state, order.cancellation) == (S.IN_PROGRESS, None)
    assert TimerKind.CANCELLATION not in order.deadlines()


def test_the_asker_may_withdraw_a_cancellation_request(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    m.do(c.RequestCancellation, m.seller, order_id=order_id, reason="Too busy")
    withdrawn = one(m.do(c.AnswerCancellation, m.seller, order_id=order_id, agree=True), ev.CancellationAnswered)
    assert (withdrawn.withdrawn, withdrawn.agreed) == (True, False)
    assert m.get(order_id).state is S.IN_PROGRESS and m.get(order_id).cancellation is None


def test_a_cancellation_request_says_why_and_waits_alone(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    with pytest.raises(Refused, match="There is no cancellation request to answer"):
        m.do(c.AnswerCancellation, m.buyer, order_id=order_id, agree=True)
    with pytest.raises(Refused, match="Say why you want to cancel: the other side decides on it"):
        m.do(c.RequestCancellation, m.buyer, order_id=order_id, reason=" ")
    m.do(c.RequestCancellation, m.buyer, order_id=order_id, reason="Changed my mind")
    with pytest.raises(Refused, match="A cancellation request is already waiting for an answer"):
        m.do(c.RequestCancellation, m.seller, order_id=order_id, reason="Me too")


def test_only_the_parties_ask_each_other_to_cancel(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    with pytest.raises(Refused, match="Only the buyer or the seller can ask to cancel"):
        m.do(c.RequestCancellation, m.admin, order_id=order_id, reason="x")
    m.do(c.RequestCancellation, m.buyer, order_id=order_id, reason="x")
    with pytest.raises(Refused, match="Only the buyer or the seller can answer the cancellation request"):
        m.do(c.AnswerCancellation, m.admin, order_id=order_id, agree=True)


@pytest.mark.parametrize("until", [S.AWAITING_ACCEPTANCE, S.ACCEPTED])
def test_a_cancellation_is_asked_only_while_the_work_is_open(sqlite_market: Market, until: OrderState) -> None:
    order_id = sqlite_market.order(until=until)
    with pytest.raises(Refused, match=f"You can't ask to cancel now: order {order_id} is {until.label}"):
        sqlite_market.do(c.RequestCancellation, sqlite_market.buyer, order_id=order_id, reason="x")


def test_silence_cancels_a_cancellation_request(market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    order_id = market.order(until=S.IN_PROGRESS)
    market.do(c.RequestCancellation, market.buyer, order_id=order_id, reason="Plans changed")
    time_machine.shift(timedelta(hours=48) - timedelta(seconds=1))
    market.fire()
    assert market.get(order_id).state is S.IN_PROGRESS
    time_machine.shift(timedelta(seconds=1))
    assert market.fire() >= 1  # the due date's reminder is due at this moment too
    order = market.get(order_id)
    assert (order.state, order.ended_at) == (S.CANCELLED, T0 + timedelta(hours=48))
    cancelled = [e for e in market.history(order_id) if isinstance(e, ev.OrderCancelled)]
    assert len(cancelled) == 1
    assert (cancelled[0].by, cancelled[0].refund) == (Role.TIMER, 5000)
    assert cancelled[0].reason == "The seller did not answer the cancellation request within 2d."
    assert market.balance(f"escrow:{order_id}") == 0 and market.balance("payments:bea") == 0


def test_accepting_the_delivery_drops_a_waiting_cancellation_request(sqlite_market: Market,
                                                                     time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED)
    m.do(c.RequestCancellation, m.seller, order_id=order_id, reason="Wrong file")
    m.do(c.AcceptDelivery, m.buyer, order_id=order_id)
    time_machine.shift(timedelta(days=3))
    m.fire()
    order = m.get(order_id)
    assert (order.state, order.cancellation) == (S.ACCEPTED, None)


def test_a_cancellation_request_outlives_a_delivery(sqlite_market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    m.do(c.RequestCancellation, m.buyer, order_id=order_id, reason="Too slow")
    m.do(c.DeliverOrder, m.seller, order_id=order_id, description="Here", files=(FILE,))
    outcome = m.do(c.AnswerCancellation, m.seller, order_id=order_id, agree=False)
    assert one(outcome, ev.CancellationAnswered).agreed is False
    assert m.get(order_id).state is S.DELIVERED


# ---- cancelling a late order ---------------------------------------------------------------------
def test_the_buyer_may_cancel_alone_24_hours_after_the_due_date(market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    order_id = market.order(until=S.IN_PROGRESS)  # due at T0 + 3d
    time_machine.shift(timedelta(days=4) - timedelta(seconds=1))
    with pytest.raises(Refused, match="You can cancel on your own once the order is 1d past its due date "
                                      "\\(from 2031-03-07 09:00 UTC\\)"):
        market.do(c.CancelLateOrder, market.buyer, order_id=order_id)
    time_machine.shift(timedelta(seconds=1))
    cancelled = one(market.do(c.CancelLateOrder, market.buyer, order_id=order_id), ev.OrderCancelled)
    assert (cancelled.by, cancelled.refund, cancelled.to_seller) == (Role.BUYER, 5000, 0)
    assert cancelled.reason == "Cancelled by the buyer: more than 1d late."
    assert market.get(order_id).state is S.CANCELLED
    assert market.balance(f"escrow:{order_id}") == 0 and market.balance("payments:bea") == 0


def test_only_the_buyer_cancels_a_late_order(sqlite_market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    time_machine.shift(timedelta(days=5))
    for who in (m.seller, m.admin):
        with pytest.raises(Refused, match="Only the buyer can cancel the late order"):
            m.do(c.CancelLateOrder, who, order_id=order_id)


def test_a_delivered_order_is_not_cancelled_as_late(sqlite_market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    time_machine.shift(timedelta(days=4, hours=1))
    m.deliver(order_id)
    with pytest.raises(Refused, match=f"You can't cancel the late order now: order {order_id} is delivered"):
        m.do(c.CancelLateOrder, m.buyer, order_id=order_id)


def test_approved_extra_time_moves_the_late_cancellation(sqlite_market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    m.do(c.RequestMoreTime, m.seller, order_id=order_id, extra=timedelta(days=2), reason="More pages")
    m.do(c.AnswerTimeRequest, m.buyer, order_id=order_id, approve=True)
    time_machine.shift(timedelta(days=5, hours=23))
    with pytest.raises(Refused, match="\\(from 2031-03-09 09:00 UTC\\)"):
        m.do(c.CancelLateOrder, m.buyer, order_id=order_id)
    time_machine.shift(timedelta(hours=1))
    assert one(m.do(c.CancelLateOrder, m.buyer, order_id=order_id), ev.OrderCancelled).refund == 5000
