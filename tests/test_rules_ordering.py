"""Rules of ordering: placing, requirements, the seller's answer, offers, who may act, and where."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core import commands as c
from core import events as ev
from core.actor import Owed
from core.engine import Outcome
from core.errors import NotFound, Refused
from core.lifecycle import OrderState, Role
from core.order_parts import Resolution
from core.terms import LineItem
from tests.market import SERVICE, Market, one

S = OrderState
T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)



def place(market: Market, **changes: Any) -> tuple[str, Outcome]:
    outcome = market.do(c.PlaceOrder, market.buyer, listing_id=market.listing(**changes))
    return outcome.ref, outcome


# ---- placing -------------------------------------------------------------------------------------
def test_an_order_is_paid_into_escrow_when_it_is_placed(market: Market) -> None:
    order_id, outcome = place(market)
    placed = one(outcome, ev.OrderPlaced)
    assert (placed.total, placed.currency, placed.needs_requirements) == (5000, "USD", True)
    assert placed.state is S.AWAITING_REQUIREMENTS
    assert placed.owed == (Owed("bea", "submit the requirements"),)
    assert market.get(order_id).state is S.AWAITING_REQUIREMENTS
    assert market.balance(f"escrow:{order_id}") == 5000
    assert market.balance("payments:bea") == -5000


def test_an_order_with_no_requirement_questions_goes_straight_to_the_seller(sqlite_market: Market,
                                                                           time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    order_id, outcome = place(sqlite_market, questions=())
    placed = one(outcome, ev.OrderPlaced)
    assert placed.needs_requirements is False
    assert placed.owed == (Owed("sam", "accept or decline the order"),)
    order = sqlite_market.get(order_id)
    assert order.state is S.AWAITING_ACCEPTANCE
    assert order.accept_by == T0 + timedelta(hours=48)


def test_the_terms_are_fixed_when_the_order_is_placed(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(extras=("nda", "fast", "rev"))
    terms = sqlite_market.get(order_id).terms
    assert terms.items == (LineItem("Logo design", 5000), LineItem("Non-disclosure agreement", 1000),
                           LineItem("Delivery in 1 day", 2000), LineItem("One more revision", 500))
    assert (terms.total, terms.currency, terms.fee_bps) == (8500, "USD", 1000)
    assert (terms.delivery_days, terms.deliveries, terms.nda, terms.licence) == (1, 3, True, "Commercial use")
    assert sqlite_market.balance(f"escrow:{order_id}") == 8500


def test_later_edits_to_a_listing_never_change_a_placed_order(market: Market) -> None:
    listing_id = market.listing()
    order_id = market.do(c.PlaceOrder, market.buyer, listing_id=listing_id, extras=("nda",)).ref
    before = market.get(order_id).terms
    edited = replace(SERVICE, title="Logo design PRO", price=9900, delivery_days=10, deliveries=1,
                     licence="Personal use", extras=(), questions=("Colours?", "Fonts?"))
    market.do(c.UpdateListing, market.seller, listing_id=listing_id, service=edited)
    market.do(c.SetPolicy, market.admin, setting="fee_bps", value="2500")
    after = market.get(order_id)
    assert after.terms == before
    assert after.terms.total == 6000 and after.terms.fee_bps == 1000 and after.terms.nda
    assert market.balance(f"escrow:{order_id}") == 6000
    newer = market.get(market.do(c.PlaceOrder, market.buyer, listing_id=listing_id).ref).terms
    assert (newer.total, newer.fee_bps, newer.delivery_days, newer.title) == (9900, 2500, 10, "Logo design PRO")


def test_an_unknown_extra_is_refused_and_nothing_is_charged(sqlite_market: Market) -> None:
    listing_id = sqlite_market.listing()
    with pytest.raises(Refused, match="No extra called gold on this listing"):
        sqlite_market.do(c.PlaceOrder, sqlite_market.buyer, listing_id=listing_id, extras=("gold",))
    assert sqlite_market.balance("payments:bea") == 0


def test_a_seller_cannot_order_their_own_service(sqlite_market: Market) -> None:
    listing_id = sqlite_market.listing()
    with pytest.raises(Refused, match="You can't order your own service"):
        sqlite_market.do(c.PlaceOrder, sqlite_market.seller, listing_id=listing_id)


def test_a_paused_listing_takes_no_orders(sqlite_market: Market) -> None:
    listing_id = sqlite_market.listing()
    sqlite_market.do(c.UpdateListing, sqlite_market.seller, listing_id=listing_id, active=False)
    with pytest.raises(Refused, match=f"Listing {listing_id} is paused: it takes no orders now"):
        sqlite_market.do(c.PlaceOrder, sqlite_market.buyer, listing_id=listing_id)
    sqlite_market.do(c.UpdateListing, sqlite_market.seller, listing_id=listing_id, active=True)
    assert sqlite_market.do(c.PlaceOrder, sqlite_market.buyer, listing_id=listing_id).ref


def test_only_the_seller_who_made_a_listing_changes_it(sqlite_market: Market) -> None:
    m = sqlite_market
    listing_id = m.listing()
    with pytest.raises(Refused, match="Only the seller who made a listing can change it"):
        m.do(c.UpdateListing, m.buyer, listing_id=listing_id, active=False)
    saved = one(m.do(c.UpdateListing, m.admin, listing_id=listing_id, active=False), ev.ListingSaved)
    assert (saved.created, saved.active) == (False, False)


def test_a_listing_with_bad_terms_is_refused(sqlite_market: Market) -> None:
    with pytest.raises(Refused, match="The price must be more than zero"):
        sqlite_market.listing(price=0)
    with pytest.raises(Refused, match="A price is more than gigroom handles in one amount"):
        sqlite_market.listing(price=10**19)
    with pytest.raises(Refused, match="is not a currency code"):
        sqlite_market.listing(currency="dollars")


# ---- requirements --------------------------------------------------------------------------------
def test_only_the_buyer_submits_the_requirements(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order()
    for who in (m.seller, m.admin):
        with pytest.raises(Refused, match="Only the buyer can submit the requirements"):
            m.do(c.SubmitRequirements, who, order_id=order_id, answers=("Acme",))
    with pytest.raises(Refused, match=f"Order {order_id} is not yours"):
        m.do(c.SubmitRequirements, m.stranger, order_id=order_id, answers=("Acme",))
    assert m.get(order_id).state is S.AWAITING_REQUIREMENTS


@pytest.mark.parametrize("answers", [(), ("  ",), ("Acme", "extra")])
def test_the_buyer_answers_every_requirement_question(sqlite_market: Market, answers: tuple[str, ...]) -> None:
    order_id = sqlite_market.order()
    with pytest.raises(Refused, match="Answer the requirement question: What is your brand called\\?"):
        sqlite_market.do(c.SubmitRequirements, sqlite_market.buyer, order_id=order_id, answers=answers)


def test_a_requirement_answer_has_a_length_limit(sqlite_market: Market) -> None:
    order_id = sqlite_market.order()
    with pytest.raises(Refused, match="An answer is at most 5000 characters; this one has 5001"):
        sqlite_market.do(c.SubmitRequirements, sqlite_market.buyer, order_id=order_id, answers=("x" * 5001,))


def test_submitting_the_requirements_asks_the_seller_to_accept(sqlite_market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    order_id = m.order()
    outcome = m.do(c.SubmitRequirements, m.buyer, order_id=order_id, answers=(" Acme Ltd ",))
    submitted = one(outcome, ev.RequirementsSubmitted)
    assert submitted.answers[0].question == "What is your brand called?"
    assert submitted.answers[0].answer == "Acme Ltd"
    assert submitted.accept_by == T0 + timedelta(hours=48)
    assert submitted.state is S.AWAITING_ACCEPTANCE
    assert submitted.owed == (Owed("sam", "accept or decline the order"),)  # the seller gets a direct message
    assert m.get(order_id).state is S.AWAITING_ACCEPTANCE
    with pytest.raises(Refused, match=f"Nothing to do: order {order_id} is already awaiting acceptance"):
        m.do(c.SubmitRequirements, m.buyer, order_id=order_id, answers=("Acme",))


def test_the_buyer_may_cancel_before_giving_the_requirements_with_a_full_refund(market: Market) -> None:
    order_id = market.order()
    outcome = market.do(c.CancelOrder, market.buyer, order_id=order_id, reason="Ordered by mistake")
    cancelled = one(outcome, ev.OrderCancelled)
    assert (cancelled.by, cancelled.refund, cancelled.to_seller) == (Role.BUYER, 5000, 0)
    assert cancelled.reason == "Ordered by mistake"
    assert market.get(order_id).state is S.CANCELLED
    assert market.balance(f"escrow:{order_id}") == 0
    assert market.balance("payments:bea") == 0


def test_an_admin_may_cancel_an_order_awaiting_requirements(sqlite_market: Market) -> None:
    order_id = sqlite_market.order()
    cancelled = one(sqlite_market.do(c.CancelOrder, sqlite_market.admin, order_id=order_id), ev.OrderCancelled)
    assert (cancelled.by, cancelled.refund) == (Role.ADMIN, 5000)
    assert cancelled.reason == "Cancelled before the requirements were submitted."
    assert sqlite_market.balance(f"escrow:{order_id}") == 0


def test_the_seller_cannot_cancel_an_order_awaiting_requirements(sqlite_market: Market) -> None:
    order_id = sqlite_market.order()
    with pytest.raises(Refused, match="Only the buyer or the admin can cancel the order"):
        sqlite_market.do(c.CancelOrder, sqlite_market.seller, order_id=order_id)


def test_the_buyer_cannot_cancel_alone_once_the_requirements_are_in(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.AWAITING_ACCEPTANCE)
    with pytest.raises(Refused, match=f"You can't cancel the order now: order {order_id} is awaiting acceptance"):
        sqlite_market.do(c.CancelOrder, sqlite_market.buyer, order_id=order_id)


# ---- the seller's answer -------------------------------------------------------------------------
def test_the_seller_cannot_accept_before_the_requirements_are_in(sqlite_market: Market) -> None:
    order_id = sqlite_market.order()
    with pytest.raises(Refused, match=f"You can't accept the order now: order {order_id} is awaiting requirements"):
        sqlite_market.do(c.AcceptOrder, sqlite_market.seller, order_id=order_id)


def test_only_the_seller_accepts_an_order(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.AWAITING_ACCEPTANCE)
    for who in (m.buyer, m.admin):
        with pytest.raises(Refused, match="Only the seller can accept the order"):
            m.do(c.AcceptOrder, who, order_id=order_id)
    with pytest.raises(Refused, match="Only the seller can decline the order"):
        m.do(c.DeclineOrder, m.buyer, order_id=order_id)


def test_accepting_opens_the_work_with_the_licence_and_the_nda_in_force(sqlite_market: Market,
                                                                       time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    order_id = m.order(until=S.AWAITING_ACCEPTANCE, extras=("nda",))
    accepted = one(m.do(c.AcceptOrder, m.seller, order_id=order_id), ev.OrderAccepted)
    assert (accepted.nda, accepted.licence) == (True, "Commercial use")
    assert accepted.due_at == T0 + timedelta(days=3)  # acceptance time + delivery days
    assert accepted.state is S.IN_PROGRESS
    assert accepted.owed == (Owed("sam", "deliver the order"),)
    order = m.get(order_id)
    assert (order.state, order.accepted_at, order.due_at, order.accept_by) == (
        S.IN_PROGRESS, T0, T0 + timedelta(days=3), None)
    assert m.balance(f"escrow:{order_id}") == 6000  # the money stays in escrow while the work is done


def test_without_the_nda_extra_no_nda_is_in_force(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.AWAITING_ACCEPTANCE)
    accepted = one(sqlite_market.do(c.AcceptOrder, sqlite_market.seller, order_id=order_id), ev.OrderAccepted)
    assert accepted.nda is False


def test_the_seller_may_decline_with_no_penalty_and_the_buyer_is_refunded(market: Market) -> None:
    order_id = market.order(until=S.AWAITING_ACCEPTANCE)
    outcome = market.do(c.DeclineOrder, market.seller, order_id=order_id, reason=" Too busy ")
    declined = one(outcome, ev.OrderDeclined)
    assert (declined.reason, declined.refund, declined.currency) == ("Too busy", 5000, "USD")
    assert declined.owed_by == ()
    order = market.get(order_id)
    assert order.state is S.DECLINED and order.ended_at is not None
    assert market.balance(f"escrow:{order_id}") == 0
    assert market.balance("payments:bea") == 0
    assert market.balance("available:sam") == 0 and market.balance("fees") == 0  # no penalty, no fee
    with pytest.raises(Refused, match=f"You can't accept the order now: order {order_id} is declined"):
        market.do(c.AcceptOrder, market.seller, order_id=order_id)


def test_an_order_the_seller_never_answers_expires_with_a_refund(market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    order_id = market.order(until=S.AWAITING_ACCEPTANCE)
    time_machine.shift(timedelta(hours=48) - timedelta(seconds=1))
    market.fire()
    assert market.get(order_id).state is S.AWAITING_ACCEPTANCE
    time_machine.shift(timedelta(seconds=1))
    assert market.fire() == 1
    order = market.get(order_id)
    assert (order.state, order.ended_at) == (S.EXPIRED, T0 + timedelta(hours=48))
    assert market.balance(f"escrow:{order_id}") == 0
    assert market.balance("payments:bea") == 0
    with pytest.raises(Refused, match=f"You can't accept the order now: order {order_id} is expired"):
        market.do(c.AcceptOrder, market.seller, order_id=order_id)


# ---- custom offers -------------------------------------------------------------------------------
def offer(market: Market, **fields: Any) -> Outcome:
    fields.setdefault("service", replace(SERVICE, title="Logo for Bea", price=7000, questions=()))
    return market.do(c.MakeOffer, market.seller, buyer_id="bea", **fields)


def test_a_seller_makes_a_custom_offer_to_one_buyer(market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    made = one(offer(market, extras=("nda",)), ev.OfferMade)
    assert (made.seller_id, made.buyer_id, made.title) == ("sam", "bea", "Logo for Bea")
    assert (made.total, made.currency, made.expires_at) == (8000, "USD", T0 + timedelta(days=7))
    outcome = market.do(c.AnswerOffer, market.buyer, offer_id=made.offer_id, accept=True)
    placed = one(outcome, ev.OrderPlaced)
    order = market.get(outcome.ref)
    assert order.offer_id == made.offer_id and order.listing_id is None
    assert (order.buyer_id, order.seller_id, order.terms.total, order.terms.nda) == ("bea", "sam", 8000, True)
    assert placed.needs_requirements is False and order.state is S.AWAITING_ACCEPTANCE
    assert market.balance(f"escrow:{order.id}") == 8000
    with pytest.raises(Refused, match=f"Offer {made.offer_id} is already accepted"):
        market.do(c.AnswerOffer, market.buyer, offer_id=made.offer_id, accept=True)


def test_only_the_buyer_an_offer_was_made_to_answers_it(sqlite_market: Market) -> None:
    m = sqlite_market
    offer_id = offer(m).ref
    for who in (m.stranger, m.seller, m.admin):
        with pytest.raises(Refused, match="Only the buyer this offer was made to can answer it"):
            m.do(c.AnswerOffer, who, offer_id=offer_id, accept=True)


def test_a_buyer_may_decline_a_custom_offer(sqlite_market: Market) -> None:
    m = sqlite_market
    offer_id = offer(m).ref
    closed = one(m.do(c.AnswerOffer, m.buyer, offer_id=offer_id, accept=False), ev.OfferClosed)
    assert closed.outcome == "declined"
    with pytest.raises(Refused, match=f"Offer {offer_id} is already declined"):
        m.do(c.AnswerOffer, m.buyer, offer_id=offer_id, accept=True)
    assert m.balance("payments:bea") == 0


def test_the_seller_may_withdraw_an_open_offer(sqlite_market: Market) -> None:
    m = sqlite_market
    offer_id = offer(m).ref
    with pytest.raises(Refused, match="Only the seller who made the offer can withdraw it"):
        m.do(c.WithdrawOffer, m.buyer, offer_id=offer_id)
    closed = one(m.do(c.WithdrawOffer, m.seller, offer_id=offer_id), ev.OfferClosed)
    assert closed.outcome == "withdrawn"
    with pytest.raises(Refused, match=f"Offer {offer_id} is already withdrawn"):
        m.do(c.AnswerOffer, m.buyer, offer_id=offer_id, accept=True)


def test_a_custom_offer_expires_after_its_validity(sqlite_market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    offer_id = offer(sqlite_market).ref
    time_machine.shift(timedelta(days=7))
    with pytest.raises(Refused, match=f"Offer {offer_id} expired on 2031-03-10 09:00 UTC"):
        sqlite_market.do(c.AnswerOffer, sqlite_market.buyer, offer_id=offer_id, accept=True)


def test_a_seller_cannot_make_a_custom_offer_to_themselves(sqlite_market: Market) -> None:
    with pytest.raises(Refused, match="you can't make one to yourself"):
        sqlite_market.do(c.MakeOffer, sqlite_market.seller, buyer_id="sam", service=SERVICE)


def test_an_unknown_offer_gets_a_clear_error(sqlite_market: Market) -> None:
    with pytest.raises(NotFound, match="There is no offer F0000000 here"):
        sqlite_market.do(c.AnswerOffer, sqlite_market.buyer, offer_id="F0000000", accept=True)


# ---- who may act, and where ----------------------------------------------------------------------
def test_a_stranger_cannot_act_on_an_order(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED)
    for command, fields in ((c.AcceptDelivery, {}), (c.PostMessage, {"text": "hi"}),
                            (c.ReportProblem, {"reason": "x"})):
        with pytest.raises(Refused, match=f"Order {order_id} is not yours: only its buyer, its seller and admins"):
            m.do(command, m.stranger, order_id=order_id, **fields)
    assert m.get(order_id).state is S.DELIVERED


def test_an_unknown_order_gets_a_clear_error(sqlite_market: Market) -> None:
    with pytest.raises(NotFound, match="There is no order O0000000 here"):
        sqlite_market.do(c.AcceptOrder, sqlite_market.seller, order_id="O0000000")
    with pytest.raises(NotFound, match="There is no listing L0000000 here"):
        sqlite_market.do(c.PlaceOrder, sqlite_market.buyer, listing_id="L0000000")


def test_order_ids_are_read_as_people_type_them(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.AWAITING_ACCEPTANCE)
    typed = " " + order_id.lower().replace("0", "o").replace("1", "l") + " "
    outcome = sqlite_market.do(c.AcceptOrder, sqlite_market.seller, order_id=typed)
    assert outcome.ref == order_id
    assert sqlite_market.get(order_id).state is S.IN_PROGRESS


def test_only_admins_administer(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    for who in (m.buyer, m.seller, m.stranger):
        with pytest.raises(Refused, match="Only admins can change the community's policy"):
            m.do(c.SetPolicy, who, setting="fee_bps", value="0")
    for who in (m.buyer, m.seller):
        with pytest.raises(Refused, match="Only the admin can resolve the order"):
            m.do(c.Resolve, who, order_id=order_id, resolution=Resolution.CANCEL)
    assert m.get(order_id).state is S.IN_PROGRESS


def test_an_admin_named_in_the_policy_acts_as_an_admin(sqlite_market: Market) -> None:
    m = sqlite_market
    changed = one(m.do(c.SetPolicy, m.admin, setting="admins", value="eve, ada"), ev.PolicyChanged)
    assert (changed.admin_id, changed.setting, changed.value) == ("ada", "admins", "ada,eve")
    order_id = m.order(until=S.IN_PROGRESS)
    resolved = one(m.do(c.Resolve, m.stranger, order_id=order_id, resolution=Resolution.CANCEL), ev.OrderResolved)
    assert resolved.admin_id == "eve"
    assert m.get(order_id).state is S.CANCELLED


def test_a_bad_policy_setting_is_refused_and_the_policy_kept(sqlite_market: Market) -> None:
    m = sqlite_market
    with pytest.raises(Refused, match="fee_bps is in basis points"):
        m.do(c.SetPolicy, m.admin, setting="fee_bps", value="10000")
    with pytest.raises(Refused, match="There is no policy setting 'fees'"):
        m.do(c.SetPolicy, m.admin, setting="fees", value="1")
    order_id = m.order()
    assert m.get(order_id).terms.fee_bps == 1000


def test_nothing_crosses_from_one_community_to_another(market: Market) -> None:
    other = Market(market.database, community="other")
    listing_id = market.listing()
    order_id = market.order(until=S.DELIVERED)
    offer_id = offer(market).ref
    # The same user ids, in another community: nothing of this community exists for them.
    with pytest.raises(NotFound, match=f"There is no order {order_id} here"):
        other.do(c.AcceptDelivery, other.buyer, order_id=order_id)
    with pytest.raises(NotFound, match=f"There is no order {order_id} here"):
        other.do(c.Resolve, other.admin, order_id=order_id, resolution=Resolution.CANCEL)
    with pytest.raises(NotFound, match=f"There is no listing {listing_id} here"):
        other.do(c.PlaceOrder, other.buyer, listing_id=listing_id)
    with pytest.raises(NotFound, match=f"There is no listing {listing_id} here"):
        other.do(c.UpdateListing, other.admin, listing_id=listing_id, active=False)
    with pytest.raises(NotFound, match=f"There is no offer {offer_id} here"):
        other.do(c.AnswerOffer, other.buyer, offer_id=offer_id, accept=True)
    other.do(c.SetPolicy, other.admin, setting="fee_bps", value="0")
    assert market.get(order_id).state is S.DELIVERED
    assert market.balance(f"escrow:{order_id}") == 5000
    assert other.balance(f"escrow:{order_id}") == 0 and other.balance("payments:bea") == 0
    market.do(c.AcceptDelivery, market.buyer, order_id=order_id)
    assert market.balance("fees") == 500  # the other community's policy did not apply here
    assert other.balance("fees") == 0 and other.balance(f"pending:sam:{order_id}") == 0


def test_a_retried_request_with_the_same_key_has_one_effect(market: Market) -> None:
    listing_id = market.listing()
    first = market.do(c.PlaceOrder, market.buyer, listing_id=listing_id, key="click-1")
    again = market.do(c.PlaceOrder, market.buyer, listing_id=listing_id, key="click-1")
    assert (again.ref, again.replayed, again.events) == (first.ref, True, ())
    assert first.replayed is False and first.events
    assert market.balance("payments:bea") == -5000  # paid once
    order_id = first.ref
    market.do(c.SubmitRequirements, market.buyer, order_id=order_id, answers=("Acme",), key="click-2")
    replay = market.do(c.SubmitRequirements, market.buyer, order_id=order_id, answers=("Acme",), key="click-2")
    assert replay.replayed and replay.ref == order_id
    assert market.get(order_id).state is S.AWAITING_ACCEPTANCE


def test_a_refused_request_leaves_no_trace_so_its_retry_is_judged_afresh(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order()
    with pytest.raises(Refused, match="Answer the requirement question"):
        m.do(c.SubmitRequirements, m.buyer, order_id=order_id, answers=(), key="k")
    with pytest.raises(Refused, match="Answer the requirement question"):
        m.do(c.SubmitRequirements, m.buyer, order_id=order_id, answers=(), key="k")
    assert m.get(order_id).state is S.AWAITING_REQUIREMENTS


def test_a_double_click_gives_one_outcome_and_the_second_click_a_clear_message(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.AWAITING_ACCEPTANCE)
    m.do(c.AcceptOrder, m.seller, order_id=order_id)
    with pytest.raises(Refused, match=f"Nothing to do: order {order_id} is already in progress"):
        m.do(c.AcceptOrder, m.seller, order_id=order_id)
    assert len(m.get(order_id).events) == 0 and m.get(order_id).state is S.IN_PROGRESS


def test_a_buyer_chooses_an_offer_s_extras_when_accepting_it_and_the_total_includes_them(sqlite_market: Market) -> None:
    m = sqlite_market
    offer_id = offer(m, extras=("nda",)).ref  # 70.00 with the NDA the seller included: 80.00
    with pytest.raises(Refused, match="No extra called gold"):
        m.do(c.AnswerOffer, m.buyer, offer_id=offer_id, accept=True, extras=("gold",))
    outcome = m.do(c.AnswerOffer, m.buyer, offer_id=offer_id, accept=True, extras=("fast", "nda"))
    order = m.get(outcome.ref)
    assert [item.name for item in order.terms.items] == ["Logo for Bea", "Non-disclosure agreement",
                                                          "Delivery in 1 day"]
    assert order.terms.total == 7000 + 1000 + 2000 and m.balance(f"escrow:{order.id}") == 10000
    assert order.terms.delivery_days == 1


def test_an_unknown_extra_on_an_offer_is_refused_in_the_offer_s_words(sqlite_market: Market) -> None:
    m = sqlite_market
    with pytest.raises(Refused, match=r"No extra called gold on this offer \(extras: nda, fast"):
        offer(m, extras=("gold",))
    offer_id = offer(m).ref
    with pytest.raises(Refused, match=r"No extra called gold on this offer \(extras: nda, fast") as refused:
        m.do(c.AnswerOffer, m.buyer, offer_id=offer_id, accept=True, extras=("gold",))
    assert refused.value.field == "extras"
    assert m.balance("payments:bea") == 0, "nothing is ordered, nothing charged"


def test_an_expired_offer_is_not_listed_as_open(sqlite_market: Market, time_machine: Any) -> None:
    from adapters.db.queries import Queries
    time_machine.move_to(T0, tick=False)
    offer_id = offer(sqlite_market).ref
    queries = Queries(sqlite_market.database)
    cid = sqlite_market.community.id
    assert [o.id for o in queries.offers(cid, "bea", T0 + timedelta(days=7) - timedelta(seconds=1))] == [offer_id]
    assert queries.offers(cid, "bea", T0 + timedelta(days=7)) == []
    assert queries.offers(cid, "sam", T0 + timedelta(days=8)) == []
