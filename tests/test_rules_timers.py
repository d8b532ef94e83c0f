"""Rules of time: every deadline fires at its boundary, once, from data that survives a restart."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.db.tables import TimerRow
from core import commands as c
from core import events as ev
from core.actor import Owed
from core.errors import Refused
from core.lifecycle import OrderState
from core.order_parts import FinalWorkHow, TimerKind
from tests.market import Market

S = OrderState
T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)



def recorded(market: Market, order_id: str, kind: type[ev.Event]) -> list[Any]:
    return [e for e in market.history(order_id) if isinstance(e, kind)]


def timer_rows(market: Market, order_id: str) -> dict[TimerKind, datetime]:
    with Session(market.database.reader) as session:
        rows = session.execute(select(TimerRow.kind, TimerRow.due_at).where(TimerRow.order_id == order_id)).all()
    return {TimerKind(kind): due for kind, due in rows}


@pytest.fixture
def clock(time_machine: Any) -> Any:
    time_machine.move_to(T0, tick=False)
    return time_machine


# ---- the review window ---------------------------------------------------------------------------
def test_a_timer_fires_at_its_boundary_and_not_a_second_before(market: Market, clock: Any) -> None:
    order_id = market.order(until=S.DELIVERED)
    clock.shift(timedelta(hours=72) - SECOND)
    market.fire()
    assert market.get(order_id).state is S.DELIVERED
    assert market.balance(f"escrow:{order_id}") == 5000
    clock.shift(SECOND)
    market.fire()
    order = market.get(order_id)
    assert (order.state, order.delivery_accepted_at) == (S.ACCEPTED, T0 + timedelta(hours=72))
    [accepted] = recorded(market, order_id, ev.DeliveryAccepted)
    assert (accepted.automatic, accepted.released, accepted.fee) == (True, 4500, 500)
    assert accepted.final_work_due_at == T0 + timedelta(hours=72 + 24)
    assert market.balance(f"pending:sam:{order_id}") == 4500


def test_the_review_window_is_72_hours_from_the_delivery_by_default(sqlite_market: Market, clock: Any) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)  # due at T0 + 3d
    clock.shift(timedelta(hours=10))
    m.deliver(order_id)
    assert m.get(order_id).review_ends_at == T0 + timedelta(hours=10 + 72)
    clock.shift(timedelta(hours=72) - SECOND)
    m.fire()
    assert m.get(order_id).state is S.DELIVERED
    clock.shift(SECOND)
    m.fire()
    assert m.get(order_id).state is S.ACCEPTED


@pytest.mark.parametrize(("delivered_after", "window_from"), [
    (timedelta(days=1), timedelta(days=3)),  # early: 3 days from the due date
    (timedelta(days=4), timedelta(days=4)),  # late: 3 days from the delivery
])
def test_the_fiverr_review_window_counts_from_the_due_date(sqlite_market: Market, clock: Any,
                                                           delivered_after: timedelta,
                                                           window_from: timedelta) -> None:
    m = sqlite_market
    m.do(c.SetPolicy, m.admin, setting="review_window_starts", value="from_due_date")
    order_id = m.order(until=S.IN_PROGRESS)  # due at T0 + 3d
    clock.shift(delivered_after)
    delivered = m.deliver(order_id).events[-1]
    assert isinstance(delivered, ev.OrderDelivered)
    ends = T0 + window_from + timedelta(days=3)
    assert delivered.review_ends_at == ends
    clock.move_to(ends - SECOND, tick=False)
    m.fire()
    assert m.get(order_id).state is S.DELIVERED
    clock.move_to(ends, tick=False)
    m.fire()
    assert m.get(order_id).state is S.ACCEPTED


def test_the_review_window_is_a_policy_setting(sqlite_market: Market, clock: Any) -> None:
    m = sqlite_market
    m.do(c.SetPolicy, m.admin, setting="review_window", value="5d")
    order_id = m.order(until=S.DELIVERED)
    assert m.get(order_id).review_ends_at == T0 + timedelta(days=5)


def test_extending_the_review_time_moves_the_automatic_acceptance(sqlite_market: Market, clock: Any) -> None:
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED)
    clock.shift(timedelta(hours=70))
    m.do(c.ExtendReview, m.buyer, order_id=order_id, extra=timedelta(days=2))
    clock.shift(timedelta(hours=2 + 48) - SECOND)
    m.fire()
    assert m.get(order_id).state is S.DELIVERED
    clock.shift(SECOND)
    m.fire()
    assert m.get(order_id).state is S.ACCEPTED


def test_a_modification_request_stops_the_review_window(sqlite_market: Market, clock: Any) -> None:
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED)
    clock.shift(timedelta(hours=1))
    m.do(c.RequestModification, m.buyer, order_id=order_id, message="Bigger")
    clock.shift(timedelta(hours=72))
    m.fire()
    assert m.get(order_id).state is S.IN_PROGRESS


def test_a_final_delivery_left_unanswered_completes_the_order(sqlite_market: Market, clock: Any) -> None:
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED, final=True)
    clock.shift(timedelta(hours=72))
    m.fire()
    order = m.get(order_id)
    assert order.state is S.COMPLETED
    assert order.final_work is not None and order.final_work.how is FinalWorkHow.ACCEPTED_DELIVERY
    assert order.clears_at == T0 + timedelta(hours=72) + timedelta(days=5)
    [completed] = recorded(m, order_id, ev.OrderCompleted)
    assert completed.owed == (Owed("bea", "leave a review and flame rating"),)


# ---- the due date --------------------------------------------------------------------------------
def test_silence_grants_a_request_for_more_time(market: Market, clock: Any) -> None:
    order_id = market.order(until=S.IN_PROGRESS)  # due at T0 + 3d
    clock.shift(timedelta(hours=1))
    market.do(c.RequestMoreTime, market.seller, order_id=order_id, extra=timedelta(days=2), reason="Ill")
    clock.shift(timedelta(hours=48) - SECOND)
    market.fire()
    assert market.get(order_id).time_request is not None
    clock.shift(SECOND)
    market.fire()
    order = market.get(order_id)
    assert (order.time_request, order.due_at, order.extended) == (None, T0 + timedelta(days=5), timedelta(days=2))
    [granted] = recorded(market, order_id, ev.TimeRequestAnswered)
    assert (granted.approved, granted.automatic, granted.due_at) == (True, True, T0 + timedelta(days=5))


def test_a_reminder_comes_before_the_due_date(sqlite_market: Market, clock: Any) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)  # due at T0 + 3d, reminded 24h before
    clock.shift(timedelta(days=2) - SECOND)
    m.fire()
    assert recorded(m, order_id, ev.DueDateReminder) == []
    clock.shift(SECOND)
    m.fire()
    clock.shift(timedelta(hours=1))
    m.fire()
    [reminder] = recorded(m, order_id, ev.DueDateReminder)
    assert (reminder.due_at, reminder.at) == (T0 + timedelta(days=3), T0 + timedelta(days=2))
    assert reminder.owed_by == ("sam",)


def test_no_reminder_is_sent_for_a_due_date_too_close_to_remind(sqlite_market: Market, clock: Any) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS, extras=("fast",))  # due in 1 day: the reminder would be now
    assert TimerKind.REMINDER not in m.get(order_id).deadlines()
    m.do(c.SetPolicy, m.admin, setting="due_reminder", value="0m")
    later = m.order(until=S.IN_PROGRESS)
    assert TimerKind.REMINDER not in m.get(later).deadlines()


def test_a_late_order_is_flagged_to_both_parties(sqlite_market: Market, clock: Any) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    due = T0 + timedelta(days=3)
    clock.move_to(due - SECOND, tick=False)
    m.fire()
    assert recorded(m, order_id, ev.OrderLate) == []
    clock.move_to(due, tick=False)
    m.fire()
    [late] = recorded(m, order_id, ev.OrderLate)
    assert (late.due_at, late.buyer_may_cancel_at) == (due, due + timedelta(hours=24))
    assert (late.buyer_id, late.seller_id) == ("bea", "sam")
    assert m.get(order_id).late_for == due
    clock.move_to(due + timedelta(hours=24) - SECOND, tick=False)
    m.fire()
    assert recorded(m, order_id, ev.LateCancellationAvailable) == []
    clock.move_to(due + timedelta(hours=24), tick=False)
    m.fire()
    [available] = recorded(m, order_id, ev.LateCancellationAvailable)
    assert available.due_at == due
    assert len(recorded(m, order_id, ev.OrderLate)) == 1


def test_approved_extra_time_moves_the_late_flag(sqlite_market: Market, clock: Any) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    clock.shift(timedelta(days=3))
    m.fire()
    assert len(recorded(m, order_id, ev.OrderLate)) == 1
    m.do(c.RequestMoreTime, m.seller, order_id=order_id, extra=timedelta(days=1), reason="Nearly there")
    m.do(c.AnswerTimeRequest, m.buyer, order_id=order_id, approve=True)
    clock.shift(timedelta(days=1) - SECOND)
    m.fire()
    assert len(recorded(m, order_id, ev.OrderLate)) == 1
    clock.shift(SECOND)
    m.fire()
    assert [e.due_at for e in recorded(m, order_id, ev.OrderLate)] == [T0 + timedelta(days=3),
                                                                       T0 + timedelta(days=4)]


def test_the_final_work_is_flagged_overdue_24_hours_after_acceptance(sqlite_market: Market, clock: Any) -> None:
    m = sqlite_market
    order_id = m.order(until=S.ACCEPTED)
    clock.shift(timedelta(hours=24) - SECOND)
    m.fire()
    assert recorded(m, order_id, ev.FinalWorkOverdue) == []
    clock.shift(SECOND)
    m.fire()
    clock.shift(timedelta(days=1))
    m.fire()
    [overdue] = recorded(m, order_id, ev.FinalWorkOverdue)
    assert overdue.due_at == T0 + timedelta(hours=24)
    assert overdue.owed_by[0] == "sam"
    assert m.get(order_id).state is S.ACCEPTED  # the seller still owes it


def test_a_community_s_acceptance_window_applies_to_its_new_orders(sqlite_market: Market, clock: Any) -> None:
    m = sqlite_market
    m.do(c.SetPolicy, m.admin, setting="acceptance_window", value="12h")
    order_id = m.order(until=S.AWAITING_ACCEPTANCE)
    clock.shift(timedelta(hours=12) - SECOND)
    m.fire()
    assert m.get(order_id).state is S.AWAITING_ACCEPTANCE
    clock.shift(SECOND)
    m.fire()
    assert m.get(order_id).state is S.EXPIRED
    [expired] = recorded(m, order_id, ev.OrderExpired)
    assert (expired.refund, expired.currency) == (5000, "USD")


# ---- durable timers ------------------------------------------------------------------------------
def test_timers_are_data(sqlite_market: Market, clock: Any) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    due = T0 + timedelta(days=3)
    assert timer_rows(m, order_id) == {TimerKind.REMINDER: due - timedelta(hours=24), TimerKind.LATE: due,
                                       TimerKind.LATE_CANCEL: due + timedelta(hours=24)}
    m.deliver(order_id)
    assert timer_rows(m, order_id) == {TimerKind.REVIEW: T0 + timedelta(hours=72)}
    m.do(c.AcceptDelivery, m.buyer, order_id=order_id)
    assert timer_rows(m, order_id) == {TimerKind.FINAL_WORK: T0 + timedelta(hours=24)}
    m.do(c.ConfirmAlreadySent, m.seller, order_id=order_id)
    assert timer_rows(m, order_id) == {TimerKind.CLEARANCE: T0 + timedelta(days=5)}


def test_a_timer_that_fires_late_still_fires_once(market: Market, clock: Any) -> None:
    order_id = market.order(until=S.DELIVERED)
    clock.shift(timedelta(days=30))  # the bot was down for a month
    assert market.fire() == 1
    assert market.fire() == 0
    order = market.get(order_id)
    assert order.state is S.ACCEPTED and order.delivery_accepted_at == T0 + timedelta(days=30)
    assert len(recorded(market, order_id, ev.DeliveryAccepted)) == 1
    assert market.balance(f"pending:sam:{order_id}") == 4500 and market.balance("fees") == 500


def test_a_restart_neither_loses_a_deadline_nor_fires_one_twice(sqlite_market: Market, clock: Any) -> None:
    m = sqlite_market
    order_id = m.order(until=S.AWAITING_ACCEPTANCE)
    restarted = Market(m.database)  # a new engine on the same database, as after a restart
    second_bot = Market(m.database)
    clock.shift(timedelta(hours=48))
    assert restarted.fire() == 1
    assert second_bot.fire() == 0 and m.fire() == 0
    assert restarted.get(order_id).state is S.EXPIRED
    assert len(recorded(m, order_id, ev.OrderExpired)) == 1
    assert m.balance(f"escrow:{order_id}") == 0 and m.balance("payments:bea") == 0


def test_a_timer_whose_deadline_was_met_does_nothing(sqlite_market: Market, clock: Any) -> None:
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED)
    m.do(c.AcceptDelivery, m.buyer, order_id=order_id)
    m.do(c.ConfirmAlreadySent, m.seller, order_id=order_id)
    clock.shift(timedelta(hours=72))
    m.fire()
    assert recorded(m, order_id, ev.DeliveryAccepted)[0].automatic is False
    assert len(recorded(m, order_id, ev.DeliveryAccepted)) == 1
    assert recorded(m, order_id, ev.FinalWorkOverdue) == []


# ---- acting after a deadline that the sweep has not reached yet -----------------------------------
def test_a_deadline_that_has_come_acts_before_a_late_command(market: Market, clock: Any) -> None:
    order_id = market.order(until=S.AWAITING_ACCEPTANCE)
    clock.shift(timedelta(hours=48))  # the acceptance window has closed; no sweep has run
    with pytest.raises(Refused, match=f"order {order_id} is expired"):
        market.do(c.AcceptOrder, market.seller, order_id=order_id)
    assert market.get(order_id).state is S.AWAITING_ACCEPTANCE  # a refusal changes nothing; the sweep will
    market.fire()
    assert market.get(order_id).state is S.EXPIRED


def test_a_buyer_accepting_after_the_review_window_finds_the_delivery_accepted_automatically(
        market: Market, clock: Any) -> None:
    order_id = market.order(until=S.DELIVERED)
    clock.shift(timedelta(hours=72))
    with pytest.raises(Refused, match="already accepted"):
        market.do(c.AcceptDelivery, market.buyer, order_id=order_id)
    market.fire()
    [accepted] = recorded(market, order_id, ev.DeliveryAccepted)
    assert accepted.automatic


def test_a_late_delivery_is_flagged_late_first_in_the_same_transaction(market: Market, clock: Any) -> None:
    order_id = market.order(until=S.IN_PROGRESS)
    clock.shift(timedelta(days=3, hours=1))  # past the due date; the reminder and the late flag have not run
    outcome = market.deliver(order_id)
    assert [type(e) for e in outcome.events] == [ev.DueDateReminder, ev.OrderLate, ev.OrderDelivered]
    assert market.fire() == 0  # nothing left for the sweep: those deadlines were met in that transaction
    assert set(timer_rows(market, order_id)) == {TimerKind.REVIEW}


def test_an_answer_after_the_time_request_window_finds_the_time_granted(market: Market, clock: Any) -> None:
    order_id = market.order(until=S.IN_PROGRESS)
    market.do(c.RequestMoreTime, market.seller, order_id=order_id, extra=timedelta(days=2), reason="Flu")
    clock.shift(timedelta(hours=48))
    with pytest.raises(Refused):
        market.do(c.AnswerTimeRequest, market.buyer, order_id=order_id, approve=False)
    market.fire()
    assert market.get(order_id).due_at == T0 + timedelta(days=5)
