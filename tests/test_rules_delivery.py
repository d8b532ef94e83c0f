"""Rules of delivering: descriptions, files, drafts, preview and final, revisions, more time, the chat."""

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
from core.order_parts import DeliveryKind, FileRef
from core.policy import GIB
from tests.market import FILE, Market, one

S = OrderState
T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)



def deliver(market: Market, order_id: str, **fields: Any) -> Outcome:
    return market.do(c.DeliverOrder, market.seller, order_id=order_id, **fields)


# ---- who delivers, and when ----------------------------------------------------------------------
def test_only_the_seller_delivers(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    for who in (m.buyer, m.admin):
        with pytest.raises(Refused, match="Only the seller can deliver"):
            m.do(c.DeliverOrder, who, order_id=order_id, description="Work", files=(FILE,))
    assert m.get(order_id).state is S.IN_PROGRESS


def test_the_seller_cannot_deliver_before_accepting_the_order(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.AWAITING_ACCEPTANCE)
    with pytest.raises(Refused, match=f"You can't deliver now: order {order_id} is awaiting acceptance"):
        deliver(sqlite_market, order_id, description="Work", files=(FILE,))


def test_a_delivery_waits_for_the_buyer_and_starts_the_review_window(market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    order_id = market.order(until=S.IN_PROGRESS)
    outcome = deliver(market, order_id, description="  Three concepts attached ", files=(FILE,))
    delivered = one(outcome, ev.OrderDelivered)
    assert delivered.state is S.DELIVERED
    assert delivered.delivery.number == 1 and delivered.delivery.description == "Three concepts attached"
    assert delivered.delivery.files == (FILE,) and delivered.delivery.kind is DeliveryKind.PREVIEW
    assert delivered.deliveries_left == 1
    assert delivered.review_ends_at == T0 + timedelta(hours=72)
    assert delivered.owed == (Owed("bea", "accept the delivery or request a modification"),)
    order = market.get(order_id)
    assert order.state is S.DELIVERED
    assert order.deliveries[0].files[0].sha256 == FILE.sha256  # the record keeps every file's SHA-256
    with pytest.raises(Refused, match=f"Nothing to do: order {order_id} is already delivered"):
        deliver(market, order_id, description="Again", files=(FILE,))


def test_a_delivery_needs_a_description(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.IN_PROGRESS)
    for description in ("", "   "):
        with pytest.raises(Refused, match="Describe your delivery in detail: the description is required"):
            deliver(sqlite_market, order_id, description=description, files=(FILE,))
    with pytest.raises(Refused, match="A description is at most 5000 characters"):
        deliver(sqlite_market, order_id, description="x" * 5001, files=(FILE,))
    assert sqlite_market.get(order_id).state is S.IN_PROGRESS


def test_a_delivery_with_no_file_asks_the_seller_to_confirm(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    reason = "No file is attached. Confirm that this delivery has no file, or attach one."
    with pytest.raises(Refused, match=reason):
        deliver(m, order_id, description="The lesson was given on a video call")
    with pytest.raises(Refused, match=reason):  # a link is not a file
        deliver(m, order_id, description="See the link", links=("https://example.com/site",))
    assert m.get(order_id).state is S.IN_PROGRESS
    delivered = one(deliver(m, order_id, description="The lesson was given on a video call",
                            confirm_no_file=True), ev.OrderDelivered)
    assert delivered.delivery.files == () and delivered.delivery.links == ()
    assert m.get(order_id).state is S.DELIVERED


def test_a_delivery_holds_any_number_of_files_and_links(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.IN_PROGRESS)
    files = tuple(FileRef(f"f{i}.png", 10 + i, f"{i:064x}", f"key{i}") for i in range(50))
    links = tuple(f"https://example.com/{i}" for i in range(20))
    delivered = one(deliver(sqlite_market, order_id, description="All of it", files=files, links=links),
                    ev.OrderDelivered)
    assert len(delivered.delivery.files) == 50 and len(delivered.delivery.links) == 20


def test_a_delivery_holds_at_most_50_files_and_20_links(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.IN_PROGRESS)
    with pytest.raises(Refused, match="A delivery holds at most 50 files and 20 links"):
        deliver(sqlite_market, order_id, description="Too many", files=(FILE,) * 51)
    with pytest.raises(Refused, match="A delivery holds at most 50 files and 20 links"):
        deliver(sqlite_market, order_id, description="Too many", files=(FILE,),
                links=("https://example.com",) * 21)


def test_one_file_may_be_up_to_5_gb(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.IN_PROGRESS)
    too_big = FileRef("big.zip", 5 * GIB + 1, "cd" * 32, "cd" * 32)
    with pytest.raises(Refused, match=re.escape("'big.zip' is 5,368,709,121 bytes: one file may be up to "
                                                "5,368,709,120 bytes. Share a link to it instead.")):
        deliver(sqlite_market, order_id, description="Video", files=(too_big,))
    assert sqlite_market.get(order_id).state is S.IN_PROGRESS
    largest = FileRef("big.zip", 5 * GIB, "cd" * 32, "cd" * 32)
    delivered = one(deliver(sqlite_market, order_id, description="Video", files=(largest,)), ev.OrderDelivered)
    assert delivered.delivery.files[0].size == 5 * GIB


def test_a_smaller_file_limit_of_the_community_applies(sqlite_market: Market) -> None:
    m = sqlite_market
    m.do(c.SetPolicy, m.admin, setting="max_file_bytes", value="1000")
    order_id = m.order(until=S.IN_PROGRESS)
    with pytest.raises(Refused, match=re.escape("'logo.png' is 2,048 bytes: one file may be up to 1,000 bytes")):
        deliver(m, order_id, description="Logo", files=(FILE,))


def test_a_large_file_may_be_given_as_an_external_link(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.IN_PROGRESS)
    delivered = one(deliver(sqlite_market, order_id, description="The video is on Dropbox",
                            links=("https://www.dropbox.com/s/abc/video.mp4",), confirm_no_file=True),
                    ev.OrderDelivered)
    assert delivered.delivery.links == ("https://www.dropbox.com/s/abc/video.mp4",)


@pytest.mark.parametrize("link", ["ftp://example.com/x", "javascript:alert(1)", "example.com",
                                  "https://example.com/a b", "https://" + "x" * 2000])
def test_a_link_must_be_a_web_link(sqlite_market: Market, link: str) -> None:
    order_id = sqlite_market.order(until=S.IN_PROGRESS)
    with pytest.raises(Refused, match="is not a web link: links start with https://"):
        deliver(sqlite_market, order_id, description="Link", links=(link,), confirm_no_file=True)


# ---- drafts --------------------------------------------------------------------------------------
def test_a_delivery_can_be_saved_as_a_draft_and_reopened_later(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    saved = one(m.do(c.SaveDraft, m.seller, order_id=order_id, description="Half done", files=(FILE,)),
                ev.DraftSaved)
    assert saved.draft.number == 0 and saved.draft.description == "Half done"
    order = m.get(order_id)
    assert order.state is S.IN_PROGRESS  # not ready to deliver: nothing was delivered
    assert order.draft is not None and order.draft.files == (FILE,)
    assert order.deliveries == () and order.deliveries_left == 2  # only a submitted delivery counts
    delivered = one(deliver(m, order_id, from_draft=True), ev.OrderDelivered)
    assert (delivered.delivery.number, delivered.delivery.description) == (1, "Half done")
    assert delivered.delivery.files == (FILE,)
    assert delivered.deliveries_left == 1
    assert m.get(order_id).draft is None


def test_saving_a_draft_merges_with_the_saved_one_and_never_wipes_it(sqlite_market: Market) -> None:
    """`draft ORDER` with no text used to wipe the saved draft. A save keeps what it does not mention."""
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    other = FileRef("b.png", 10, "cd" * 32, "cd" * 32)
    m.do(c.SaveDraft, m.seller, order_id=order_id, description="Half done", files=(FILE,), links=("https://a.example",))
    m.do(c.SaveDraft, m.seller, order_id=order_id)  # nothing given: nothing lost
    draft = m.get(order_id).draft
    assert draft is not None and (draft.description, draft.files, draft.links) == ("Half done", (FILE,),
                                                                                  ("https://a.example",))
    m.do(c.SaveDraft, m.seller, order_id=order_id, description="Nearly there", files=(other, FILE),
         links=("https://b.example", "https://a.example"), kind=DeliveryKind.FINAL)
    draft = m.get(order_id).draft
    assert draft is not None and draft.description == "Nearly there"  # a new text replaces the text
    assert draft.files == (FILE, other) and draft.links == ("https://a.example", "https://b.example")  # each once
    assert draft.kind is DeliveryKind.FINAL  # the kind is the last save's
    m.do(c.SaveDraft, m.seller, order_id=order_id, description="Only this", links=("https://c.example",),
         replace_all=True)  # a form that showed the whole draft sends the whole draft
    draft = m.get(order_id).draft
    assert draft is not None and (draft.description, draft.files, draft.links) == ("Only this", (),
                                                                                  ("https://c.example",))


def test_files_uploaded_outside_the_chat_join_the_draft_and_keep_the_rest_of_it(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    big = FileRef("big.zip", 3 * 10**9, "cd" * 32, "cd" * 32)
    saved = one(m.do(c.AddDraftFiles, m.seller, order_id=order_id, files=(big,)), ev.DraftSaved)
    assert saved.draft.files == (big,) and saved.draft.description == ""
    assert saved.seller_only, "a draft is shown to the seller alone"
    m.do(c.SaveDraft, m.seller, order_id=order_id, description="Most of it", files=(FILE,), links=("https://x.example",))
    m.do(c.AddDraftFiles, m.seller, order_id=order_id, files=(big, big))
    draft = m.get(order_id).draft
    assert draft is not None and draft.files == (big, FILE) and draft.description == "Most of it"  # saves merge
    assert draft.links == ("https://x.example",)
    with pytest.raises(Refused):
        m.do(c.AddDraftFiles, m.buyer, order_id=order_id, files=(big,))
    assert m.get(order_id).state is S.IN_PROGRESS and m.get(order_id).deliveries == ()


def test_a_reopened_draft_may_be_completed_before_it_is_delivered(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    m.do(c.SaveDraft, m.seller, order_id=order_id, description="First go", files=(FILE,))
    m.do(c.SaveDraft, m.seller, order_id=order_id, description="Second go", replace_all=True)  # the file removed
    assert m.get(order_id).draft.description == "Second go"  # type: ignore[union-attr]
    with pytest.raises(Refused, match="No file is attached"):
        deliver(m, order_id, from_draft=True)
    final = FileRef("final.png", 99, "ef" * 32, "ef" * 32)
    delivered = one(deliver(m, order_id, from_draft=True, description="Finished", files=(final,)),
                    ev.OrderDelivered)
    assert (delivered.delivery.description, delivered.delivery.files) == ("Finished", (final,))


def test_delivering_from_a_draft_needs_a_saved_draft(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.IN_PROGRESS)
    with pytest.raises(Refused, match="There is no saved draft to deliver"):
        deliver(sqlite_market, order_id, from_draft=True)


def test_only_the_seller_saves_a_draft(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    with pytest.raises(Refused, match="Only the seller can save a draft"):
        m.do(c.SaveDraft, m.buyer, order_id=order_id, description="x")
    with pytest.raises(Refused, match="is not a web link"):
        m.do(c.SaveDraft, m.seller, order_id=order_id, description="x", links=("nope",))


def test_a_draft_cannot_be_saved_while_the_buyer_reviews(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.DELIVERED)
    with pytest.raises(Refused, match=f"You can't save a draft now: order {order_id} is delivered"):
        sqlite_market.do(c.SaveDraft, sqlite_market.seller, order_id=order_id, description="x")


# ---- preview and final ---------------------------------------------------------------------------
def test_a_delivery_is_marked_preview_or_final(sqlite_market: Market) -> None:
    m = sqlite_market
    preview = m.order(until=S.IN_PROGRESS)
    final = m.order(until=S.IN_PROGRESS)
    kind = one(deliver(m, preview, description="Watermarked preview", files=(FILE,)), ev.OrderDelivered)
    assert kind.delivery.kind is DeliveryKind.PREVIEW  # the restricted work preview HostJane recommends
    kind = one(deliver(m, final, description="Final files", files=(FILE,), kind=DeliveryKind.FINAL),
               ev.OrderDelivered)
    assert kind.delivery.kind is DeliveryKind.FINAL
    assert m.get(final).deliveries[0].kind is DeliveryKind.FINAL


# ---- revisions -----------------------------------------------------------------------------------
def test_each_submitted_delivery_uses_one_of_the_deliveries_allowed(market: Market) -> None:
    order_id = market.order(until=S.IN_PROGRESS)  # the listing allows 2 deliveries
    assert one(deliver(market, order_id, description="v1", files=(FILE,)), ev.OrderDelivered).deliveries_left == 1
    asked = one(market.do(c.RequestModification, market.buyer, order_id=order_id, message="Bigger, please"),
                ev.ModificationRequested)
    assert asked.deliveries_left == 1
    second = one(deliver(market, order_id, description="v2", files=(FILE,)), ev.OrderDelivered)
    assert (second.delivery.number, second.deliveries_left) == (2, 0)
    with pytest.raises(Refused, match=f"All 2 deliveries of order {order_id} are used: accept the delivery, "
                                      "or report a problem"):
        market.do(c.RequestModification, market.buyer, order_id=order_id, message="Smaller now")
    order = market.get(order_id)
    assert (order.state, order.deliveries_used, order.deliveries_left) == (S.DELIVERED, 2, 0)
    assert [m.message for m in order.modifications] == ["Bigger, please"]


def test_extra_revisions_bought_with_the_order_add_deliveries(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS, extras=("rev",))
    assert one(deliver(m, order_id, description="v1", files=(FILE,)), ev.OrderDelivered).deliveries_left == 2


def test_a_single_delivery_order_allows_no_modification(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED, deliveries=1)
    with pytest.raises(Refused, match=f"The delivery of order {order_id} is used"):
        m.do(c.RequestModification, m.buyer, order_id=order_id, message="Change it")
    assert m.get(order_id).state is S.DELIVERED


def test_a_modification_request_sends_the_order_back_to_in_progress(sqlite_market: Market,
                                                                   time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED)  # due at T0 + 3 days
    time_machine.shift(timedelta(days=2, hours=12))
    asked = one(m.do(c.RequestModification, m.buyer, order_id=order_id, message="  Use blue  "),
                ev.ModificationRequested)
    assert asked.state is S.IN_PROGRESS and asked.message == "Use blue"
    assert asked.owed == (Owed("sam", "deliver the order"),)
    # the seller gets at least the policy's modification time to deliver the modified work
    assert asked.due_at == T0 + timedelta(days=2, hours=12) + timedelta(hours=48)
    order = m.get(order_id)
    assert (order.state, order.review_ends_at, order.due_at) == (S.IN_PROGRESS, None, asked.due_at)


def test_a_modification_request_keeps_a_later_due_date(sqlite_market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED)
    asked = one(m.do(c.RequestModification, m.buyer, order_id=order_id, message="Use blue"),
                ev.ModificationRequested)
    assert asked.due_at == T0 + timedelta(days=3)


def test_a_modification_request_says_what_should_change(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.DELIVERED)
    with pytest.raises(Refused, match="Say what should change: the seller works from your message"):
        sqlite_market.do(c.RequestModification, sqlite_market.buyer, order_id=order_id, message="  ")


def test_only_the_buyer_requests_a_modification(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED)
    for who in (m.seller, m.admin):
        with pytest.raises(Refused, match="Only the buyer can request a modification"):
            m.do(c.RequestModification, who, order_id=order_id, message="More")


def test_deliver_modified_work_answers_a_modification_request(sqlite_market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    order_id = m.order(until=S.DELIVERED)
    time_machine.shift(timedelta(hours=10))
    m.do(c.RequestModification, m.buyer, order_id=order_id, message="Use blue")
    time_machine.shift(timedelta(hours=5))
    delivered = one(deliver(m, order_id, description="Modified: now blue", files=(FILE,)), ev.OrderDelivered)
    assert delivered.delivery.number == 2
    assert delivered.review_ends_at == T0 + timedelta(hours=15 + 72)  # a fresh review window
    order = m.get(order_id)
    assert [d.description for d in order.deliveries] == ["Here is the work", "Modified: now blue"]


# ---- more time -----------------------------------------------------------------------------------
def test_the_seller_requests_more_time_and_the_buyer_approves(market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    order_id = market.order(until=S.IN_PROGRESS)
    asked = one(market.do(c.RequestMoreTime, market.seller, order_id=order_id, extra=timedelta(days=2),
                          reason=" The client's brief changed "), ev.TimeRequested)
    assert (asked.extra, asked.reason, asked.answer_by) == (timedelta(days=2), "The client's brief changed",
                                                            T0 + timedelta(hours=48))
    assert asked.owed == (Owed("bea", "answer the request for more time"),)
    answered = one(market.do(c.AnswerTimeRequest, market.buyer, order_id=order_id, approve=True),
                   ev.TimeRequestAnswered)
    assert (answered.approved, answered.automatic) == (True, False)
    assert answered.due_at == T0 + timedelta(days=5)
    order = market.get(order_id)
    assert (order.due_at, order.extended, order.time_request) == (T0 + timedelta(days=5), timedelta(days=2), None)


def test_the_buyer_may_decline_a_request_for_more_time(sqlite_market: Market, time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    m.do(c.RequestMoreTime, m.seller, order_id=order_id, extra=timedelta(days=2), reason="Busy")
    answered = one(m.do(c.AnswerTimeRequest, m.buyer, order_id=order_id, approve=False), ev.TimeRequestAnswered)
    assert (answered.approved, answered.due_at) == (False, T0 + timedelta(days=3))
    order = m.get(order_id)
    assert (order.due_at, order.extended, order.time_request) == (T0 + timedelta(days=3), timedelta(0), None)
    with pytest.raises(Refused, match="There is no request for more time to answer"):
        m.do(c.AnswerTimeRequest, m.buyer, order_id=order_id, approve=True)


def test_the_due_date_is_acceptance_plus_delivery_days_plus_approved_extensions(sqlite_market: Market,
                                                                               time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    for extra, approve in ((timedelta(hours=12), True), (timedelta(days=4), False), (timedelta(days=1), True)):
        time_machine.shift(timedelta(hours=1))
        m.do(c.RequestMoreTime, m.seller, order_id=order_id, extra=extra, reason="Need it")
        m.do(c.AnswerTimeRequest, m.buyer, order_id=order_id, approve=approve)
    order = m.get(order_id)
    assert order.accepted_at == T0
    assert order.due_at == T0 + timedelta(days=3) + timedelta(hours=12) + timedelta(days=1)


def test_only_the_seller_requests_more_time_and_only_the_buyer_answers(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    with pytest.raises(Refused, match="Only the seller can request more time"):
        m.do(c.RequestMoreTime, m.buyer, order_id=order_id, extra=timedelta(days=1), reason="x")
    m.do(c.RequestMoreTime, m.seller, order_id=order_id, extra=timedelta(days=1), reason="x")
    for who in (m.seller, m.admin):
        with pytest.raises(Refused, match="Only the buyer can answer the request for more time"):
            m.do(c.AnswerTimeRequest, who, order_id=order_id, approve=True)


@pytest.mark.parametrize(("extra", "reason", "refusal"), [
    (timedelta(minutes=30), "Busy", "Ask for between 1h and 30d more, not 30m"),
    (timedelta(days=31), "Busy", "Ask for between 1h and 30d more, not 31d"),
    (timedelta(hours=-5), "Busy", "Ask for between 1h and 30d more"),
    (timedelta(days=1), "  ", "Say why you need more time: the buyer decides on it"),
    (timedelta(days=1), "x" * 5001, "A reason is at most 5000 characters"),
])
def test_a_request_for_more_time_is_for_a_sensible_time_and_says_why(sqlite_market: Market, extra: timedelta,
                                                                     reason: str, refusal: str) -> None:
    order_id = sqlite_market.order(until=S.IN_PROGRESS)
    with pytest.raises(Refused, match=refusal):
        sqlite_market.do(c.RequestMoreTime, sqlite_market.seller, order_id=order_id, extra=extra, reason=reason)
    assert sqlite_market.get(order_id).time_request is None


def test_one_request_for_more_time_waits_at_a_time(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    m.do(c.RequestMoreTime, m.seller, order_id=order_id, extra=timedelta(days=1), reason="x")
    with pytest.raises(Refused, match="A request for more time is already waiting for the buyer's answer"):
        m.do(c.RequestMoreTime, m.seller, order_id=order_id, extra=timedelta(days=2), reason="y")


def test_delivering_closes_a_waiting_request_for_more_time(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    m.do(c.RequestMoreTime, m.seller, order_id=order_id, extra=timedelta(days=1), reason="x")
    deliver(m, order_id, description="Done after all", files=(FILE,))
    assert m.get(order_id).time_request is None
    with pytest.raises(Refused, match=f"You can't answer the request for more time now: order {order_id} is "
                                      "delivered"):
        m.do(c.AnswerTimeRequest, m.buyer, order_id=order_id, approve=True)


def test_more_time_is_asked_only_while_the_work_is_in_progress(sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=S.DELIVERED)
    with pytest.raises(Refused, match=f"You can't request more time now: order {order_id} is delivered"):
        sqlite_market.do(c.RequestMoreTime, sqlite_market.seller, order_id=order_id, extra=timedelta(days=1),
                         reason="x")


# ---- the chat ------------------------------------------------------------------------------------
def test_both_parties_chat_in_the_workspace(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.IN_PROGRESS)
    for who in (m.buyer, m.seller, m.admin):
        posted = one(m.do(c.PostMessage, who, order_id=order_id, text=f" hello from {who.user_id} "),
                     ev.MessagePosted)
        assert (posted.author_id, posted.text) == (who.user_id, f"hello from {who.user_id}")
    with pytest.raises(Refused, match="The message is empty"):
        m.do(c.PostMessage, m.buyer, order_id=order_id, text="   ")
    with pytest.raises(Refused, match="A message is at most 5000 characters"):
        m.do(c.PostMessage, m.buyer, order_id=order_id, text="x" * 5001)


def test_the_workspace_is_closed_to_chat_once_the_order_ends(sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=S.COMPLETED)
    with pytest.raises(Refused, match=f"You can't write in the workspace now: order {order_id} is completed"):
        m.do(c.PostMessage, m.buyer, order_id=order_id, text="thanks")
