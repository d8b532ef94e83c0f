"""Rules of accepting a delivery, the final work, the review and flame rating, and completion."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core import commands as c
from core import events as ev
from core.actor import Owed
from core.engine import Outcome
from core.errors import Refused
from core.lifecycle import OrderState
from core.order_parts import FileRef, FinalWorkHow
from tests.market import FILE, Market, one

S = OrderState
T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
FINAL = FileRef("logo-final.ai", 4096, "fe" * 32, "fe" * 32)



def send_final_work(market: Market, order_id: str, **fields: Any) -> Outcome:
    fields.setdefault("description", "The final files")
    fields.setdefault("files", (FINAL,))
    return market.do(c.SendFinalWork, market.seller, order_id=order_id, **fields)


def review(market: Market, order_id: str, rating: int = 5, text: str = "Great work") -> Outcome:
    return market.do(c.LeaveReview, market.buyer, order_id=order_id, rating=rating, text=text)


# ---- accepting the delivery ----------------------------------------------------------------------
def test_only_the_buyer_accepts_a_delivery(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED)
    for who in (m.seller, m.admin):
        with pytest.raises(Refused, match="Only the buyer can accept the delivery"):
            m.do(c.AcceptDelivery, who, order_id=order_id)
    with pytest.raises(Refused, match=f"Order {order_id} is not yours"):
        m.do(c.AcceptDelivery, m.stranger, order_id=order_id)
    assert m.get(order_id).state is S.DELIVERED
    assert m.balance(f"escrow:{order_id}") == 5000


def test_a_delivery_is_accepted_only_once_it_is_delivered(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.IN_PROGRESS)
    with pytest.raises(Refused, match=f"You can't accept the delivery now: order {order_id} is in progress"):
        sqlite_market.do(c.AcceptDelivery, sqlite_market.buyer, order_id=order_id)


def test_accepting_a_delivery_releases_the_funds_to_the_seller_s_pending_balance(market: Market,
                                                                                time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    order_id = market.order(until=S.DELIVERED)
    time_machine.shift(timedelta(hours=5))
    outcome = market.do(c.AcceptDelivery, market.buyer, order_id=order_id)
    accepted = one(outcome, ev.DeliveryAccepted)
    assert (accepted.automatic, accepted.released, accepted.fee, accepted.currency) == (False, 4500, 500, "USD")
    assert accepted.state is S.ACCEPTED
    # the seller owes the final work within 24 hours of the acceptance
    assert accepted.final_work_due_at == T0 + timedelta(hours=5 + 24)
    assert accepted.owed == (Owed("sam", "send the final work"), Owed("bea", "leave a review and flame rating"))
    assert market.balance(f"escrow:{order_id}") == 0
    assert market.balance(f"pending:sam:{order_id}") == 4500
    assert market.balance("fees") == 500
    assert market.balance("available:sam") == 0  # not before the clearance period
    order = market.get(order_id)
    assert (order.state, order.delivery_accepted_at, order.review_ends_at) == (S.ACCEPTED, T0 + timedelta(hours=5),
                                                                               None)
    with pytest.raises(Refused, match=f"Nothing to do: order {order_id} is already accepted"):
        market.do(c.AcceptDelivery, market.buyer, order_id=order_id)


def test_a_delivery_marked_final_completes_the_order_when_accepted(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED, final=True)
    outcome = m.do(c.AcceptDelivery, m.buyer, order_id=order_id)
    assert [type(e) for e in outcome.events] == [ev.DeliveryAccepted, ev.OrderCompleted]
    assert one(outcome, ev.DeliveryAccepted).final_work_due_at is None  # no final work owed
    completed = one(outcome, ev.OrderCompleted)
    assert completed.owed == (Owed("bea", "leave a review and flame rating"),)
    order = m.get(order_id)
    assert order.state is S.COMPLETED
    assert order.final_work is not None and order.final_work.how is FinalWorkHow.ACCEPTED_DELIVERY
    assert order.final_work.delivery_number == 1
    assert order.final_work_released is False  # released only after the review
    assert one(review(m, order_id), ev.ReviewLeft).final_work_released is True
    with pytest.raises(Refused, match=f"Nothing to do: order {order_id} is already completed"):
        send_final_work(m, order_id)


# ---- the final work ------------------------------------------------------------------------------
def test_sending_the_final_work_completes_the_order(market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    order_id = market.order(until=S.ACCEPTED)
    outcome = send_final_work(market, order_id)
    assert [type(e) for e in outcome.events] == [ev.FinalWorkDelivered, ev.OrderCompleted]
    sent = one(outcome, ev.FinalWorkDelivered)
    assert sent.how is FinalWorkHow.FILES and sent.delivery is not None and sent.delivery.files == (FINAL,)
    assert sent.delivery.final_work is True
    completed = one(outcome, ev.OrderCompleted)
    assert (completed.state, completed.net, completed.currency) == (S.COMPLETED, 4500, "USD")
    assert completed.clears_at == T0 + timedelta(days=5)  # the earnings clear after 5 days
    order = market.get(order_id)
    assert (order.state, order.completed_at, order.final_work_due_at) == (S.COMPLETED, T0, None)
    assert order.deliveries_used == 1  # the final work is not one of the deliveries allowed
    assert market.balance(f"pending:sam:{order_id}") == 4500


def test_final_work_is_released_only_after_the_review(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.ACCEPTED)
    assert one(send_final_work(m, order_id), ev.FinalWorkDelivered).released_to_buyer is False
    assert m.get(order_id).final_work_released is False
    left = one(review(m, order_id, rating=4, text="Good"), ev.ReviewLeft)
    assert (left.rating, left.text, left.final_work_released) == (4, "Good", True)
    assert m.get(order_id).final_work_released is True


def test_a_review_left_first_releases_the_final_work_as_it_arrives(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.ACCEPTED)
    left = one(review(m, order_id), ev.ReviewLeft)
    assert left.final_work_released is False and left.state is S.ACCEPTED
    assert left.owed == (Owed("sam", "send the final work"),)
    assert one(send_final_work(m, order_id), ev.FinalWorkDelivered).released_to_buyer is True
    completed_owed = m.get(order_id).owed()
    assert completed_owed == ()  # nothing more is owed by anyone


def test_a_community_may_release_the_final_work_without_waiting_for_the_review(sqlite_market: Market) -> None:
    m = sqlite_market
    m.do(c.SetPolicy, m.admin, setting="final_work_waits_for_review", value="no")
    order_id = m.order(until=S.ACCEPTED)
    assert one(send_final_work(m, order_id), ev.FinalWorkDelivered).released_to_buyer is True


def test_already_sent_work_completes_the_order_without_files(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.ACCEPTED)
    outcome = m.do(c.ConfirmAlreadySent, m.seller, order_id=order_id)
    assert [type(e) for e in outcome.events] == [ev.FinalWorkDelivered, ev.OrderCompleted]
    sent = one(outcome, ev.FinalWorkDelivered)
    assert (sent.how, sent.delivery, sent.released_to_buyer) == (FinalWorkHow.ALREADY_SENT, None, False)
    order = m.get(order_id)
    assert order.state is S.COMPLETED and order.final_work is not None
    assert order.final_work.how is FinalWorkHow.ALREADY_SENT


def test_only_the_seller_sends_the_final_work(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.ACCEPTED)
    with pytest.raises(Refused, match="Only the seller can send the final work"):
        m.do(c.SendFinalWork, m.buyer, order_id=order_id, description="x", files=(FILE,))
    with pytest.raises(Refused, match="Only the seller can confirm the work was already sent"):
        m.do(c.ConfirmAlreadySent, m.buyer, order_id=order_id)
    assert m.get(order_id).state is S.ACCEPTED


def test_the_final_work_is_sent_after_the_delivery_is_accepted(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED)
    with pytest.raises(Refused, match=f"You can't send the final work now: order {order_id} is delivered"):
        send_final_work(m, order_id)
    with pytest.raises(Refused, match=f"You can't confirm the work was already sent now: order {order_id} is "
                                      "delivered"):
        m.do(c.ConfirmAlreadySent, m.seller, order_id=order_id)


def test_the_final_work_has_a_description_and_a_file_or_a_confirmation(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.ACCEPTED)
    with pytest.raises(Refused, match="Describe your delivery in detail"):
        send_final_work(m, order_id, description=" ")
    with pytest.raises(Refused, match=re.escape("No file is attached. Confirm that this delivery has no file")):
        send_final_work(m, order_id, files=(), links=("https://example.com/final.zip",))
    sent = one(send_final_work(m, order_id, files=(), links=("https://example.com/final.zip",),
                               confirm_no_file=True), ev.FinalWorkDelivered)
    assert sent.delivery is not None and sent.delivery.links == ("https://example.com/final.zip",)


def test_the_final_work_can_be_drafted_and_sent_from_the_draft(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.ACCEPTED)
    m.do(c.SaveDraft, m.seller, order_id=order_id, description="Final, almost", files=(FINAL,))
    assert m.get(order_id).state is S.ACCEPTED
    sent = one(m.do(c.SendFinalWork, m.seller, order_id=order_id, from_draft=True), ev.FinalWorkDelivered)
    assert sent.delivery is not None
    assert (sent.delivery.description, sent.delivery.files) == ("Final, almost", (FINAL,))
    assert m.get(order_id).draft is None


# ---- the review and flame rating -----------------------------------------------------------------
@pytest.mark.parametrize("rating", [1, 5])
def test_the_buyer_leaves_a_review_with_a_flame_rating(sqlite_market: Market, rating: int) -> None:
    m = sqlite_market
    order_id = m.order(until=S.COMPLETED)
    left = one(review(m, order_id, rating=rating, text="  Fine  "), ev.ReviewLeft)
    assert (left.rating, left.text) == (rating, "Fine")
    assert left.owed_by == ()
    order = m.get(order_id)
    assert order.review is not None and (order.review.rating, order.review.text) == (rating, "Fine")


@pytest.mark.parametrize(("rating", "text", "reason"), [
    (0, "Bad", "A flame rating is from 1 to 5, not 0"),
    (6, "Great", "A flame rating is from 1 to 5, not 6"),
    (-1, "Bad", "A flame rating is from 1 to 5, not -1"),
    (5, "   ", "Write a few words with your rating"),
    (5, "x" * 5001, "A review is at most 5000 characters"),
])
def test_a_review_needs_a_flame_rating_from_1_to_5_and_words(sqlite_market: Market, rating: int, text: str,
                                                             reason: str) -> None:
    order_id = sqlite_market.order(until=S.ACCEPTED)
    with pytest.raises(Refused, match=reason):
        review(sqlite_market, order_id, rating=rating, text=text)
    assert sqlite_market.get(order_id).review is None


def test_the_buyer_reviews_once(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.ACCEPTED)
    review(m, order_id)
    send_final_work(m, order_id)
    with pytest.raises(Refused, match="You have already left your review: a review is left once"):
        review(m, order_id, rating=1, text="Changed my mind")
    assert m.get(order_id).review.rating == 5  # type: ignore[union-attr]


def test_only_the_buyer_reviews(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.COMPLETED)
    for who in (m.seller, m.admin):
        with pytest.raises(Refused, match="Only the buyer can leave a review"):
            m.do(c.LeaveReview, who, order_id=order_id, rating=5, text="Me")


def test_the_buyer_reviews_after_accepting_the_delivery(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.DELIVERED)
    with pytest.raises(Refused, match=f"You can't leave a review now: order {order_id} is delivered"):
        review(sqlite_market, order_id)


def test_the_seller_responds_to_a_review_once(market: Market) -> None:
    order_id = market.order(until=S.COMPLETED)
    with pytest.raises(Refused, match="There is no review to respond to yet"):
        market.do(c.RespondToReview, market.seller, order_id=order_id, text="Thanks")
    review(market, order_id, rating=3, text="Slow but good")
    with pytest.raises(Refused, match="Write your response: you can respond once, so take care"):
        market.do(c.RespondToReview, market.seller, order_id=order_id, text="  ")
    answered = one(market.do(c.RespondToReview, market.seller, order_id=order_id, text=" Thank you! "),
                   ev.ReviewAnswered)
    assert answered.text == "Thank you!"
    with pytest.raises(Refused, match="You have already responded to this review: you can respond once"):
        market.do(c.RespondToReview, market.seller, order_id=order_id, text="One more thing")
    saved = market.get(order_id).review
    assert saved is not None and (saved.rating, saved.text, saved.reply) == (3, "Slow but good", "Thank you!")
    assert saved.replied_at is not None


def test_only_the_seller_responds_to_the_review(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.COMPLETED)
    review(m, order_id)
    for who in (m.buyer, m.admin):
        with pytest.raises(Refused, match="Only the seller can respond to the review"):
            m.do(c.RespondToReview, who, order_id=order_id, text="Me too")


def test_the_seller_may_respond_before_the_order_completes(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.ACCEPTED)
    review(m, order_id)
    assert one(m.do(c.RespondToReview, m.seller, order_id=order_id, text="Thanks"), ev.ReviewAnswered)


# ---- extending the review time -------------------------------------------------------------------
def test_extend_review_time_tells_the_seller(sqlite_market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED)
    extended = one(m.do(c.ExtendReview, m.buyer, order_id=order_id, extra=timedelta(days=2)), ev.ReviewExtended)
    assert (extended.extra, extended.review_ends_at) == (timedelta(days=2), T0 + timedelta(hours=72 + 48))
    assert extended.seller_id == "sam"  # the seller is told the buyer added time to the review period
    assert extended.state is S.DELIVERED
    order = m.get(order_id)
    assert (order.review_ends_at, order.review_extended) == (T0 + timedelta(hours=120), timedelta(days=2))


def test_the_review_time_is_extended_as_far_as_the_policy_allows(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED)
    for extra in (timedelta(days=8), timedelta(0), timedelta(hours=-1)):
        with pytest.raises(Refused, match="You can extend the review time by up to 7d more"):
            m.do(c.ExtendReview, m.buyer, order_id=order_id, extra=extra)
    m.do(c.ExtendReview, m.buyer, order_id=order_id, extra=timedelta(days=5))
    with pytest.raises(Refused, match="You can extend the review time by up to 2d more"):
        m.do(c.ExtendReview, m.buyer, order_id=order_id, extra=timedelta(days=3))
    m.do(c.ExtendReview, m.buyer, order_id=order_id, extra=timedelta(days=2))
    with pytest.raises(Refused, match="The review time has been extended as far as this community allows"):
        m.do(c.ExtendReview, m.buyer, order_id=order_id, extra=timedelta(hours=1))


def test_only_the_buyer_extends_the_review_time(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED)
    for who in (m.seller, m.admin):
        with pytest.raises(Refused, match="Only the buyer can extend the review time"):
            m.do(c.ExtendReview, who, order_id=order_id, extra=timedelta(days=1))
    in_progress = m.order(until=S.IN_PROGRESS)
    with pytest.raises(Refused, match=f"You can't extend the review time now: order {in_progress} is in progress"):
        m.do(c.ExtendReview, m.buyer, order_id=in_progress, extra=timedelta(days=1))
