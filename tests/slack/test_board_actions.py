"""Every lifecycle action from the board's buttons and their modals: time, modifications, review time, drafts,
final work, cancellation, tips, the invoice and the seller's own figures."""

from datetime import timedelta

import pytest
import time_machine
from pypdf import PdfReader

from core.lifecycle import OrderState
from tests.slack import payloads
from tests.slack.test_commands import accepted_order
from tests.slack.world import ADMIN, BUYER, SELLER, World, labels, text_of

pytestmark = pytest.mark.timeout(60)
NO_FILE = payloads.checkboxes_value(["no_file"])


async def deliver(world: World, order_id: str, description: str = "Concepts", **values: object) -> None:
    channel = world.order_channel(order_id)
    await world.click(SELLER, world.board(order_id), channel, "Deliver")
    answer = await world.submit(SELLER, world.modal(SELLER), {"description": description, "options": NO_FILE} | values)
    assert answer.text == "", answer.json


async def test_more_time_is_asked_for_and_answered(world: World) -> None:
    order_id = await accepted_order(world)
    channel = world.order_channel(order_id)
    due = world.gig.queries.order(order_id).due_at
    await world.click(SELLER, world.board(order_id), channel, "Request more time")
    modal = world.modal(SELLER)
    bad = await world.submit(SELLER, modal, {"extra": "a while", "reason": "Busy"})
    assert "extra" in bad.json["errors"]
    await world.submit(SELLER, modal, {"extra": "2d", "reason": "The fonts take longer"})
    assert "answer the request for more time" in world.last_dm(BUYER)["text"]
    await world.click(BUYER, world.last_dm(BUYER), world.dm_channel(BUYER), "Answer time request")
    await world.submit(BUYER, world.modal(BUYER), {"approve": payloads.select_value("yes")})
    assert world.gig.queries.order(order_id).due_at == due + timedelta(days=2)
    assert "2d" in text_of(world.slack.messages(channel)[-2]) or "2 days" in str(world.slack.messages(channel))


async def test_a_modification_sends_the_order_back_and_the_modified_work_is_delivered(world: World) -> None:
    order_id = await accepted_order(world)
    channel = world.order_channel(order_id)
    await deliver(world, order_id)
    await world.click(BUYER, world.board(order_id), channel, "Request modification")
    await world.submit(BUYER, world.modal(BUYER), {"reason": "Bigger letters, please"})
    order = world.gig.queries.order(order_id)
    assert order.state is OrderState.IN_PROGRESS and order.deliveries_left == 1
    assert "Bigger letters" in str(world.slack.messages(channel))
    await deliver(world, order_id, "Bigger letters")
    board = world.board(order_id)
    assert "Request modification" not in labels(board), "no deliveries are left"
    assert "0 left" in text_of(board)


async def test_the_buyer_extends_the_review_time_and_the_seller_is_told(world: World) -> None:
    order_id = await accepted_order(world)
    await deliver(world, order_id)
    ends = world.gig.queries.order(order_id).review_ends_at
    await world.click(BUYER, world.board(order_id), world.order_channel(order_id), "Extend review time")
    await world.submit(BUYER, world.modal(BUYER), {"extra": "1d"})
    assert world.gig.queries.order(order_id).review_ends_at == ends + timedelta(days=1)
    assert any("review" in text_of(m).lower() for m in world.slack.messages(world.order_channel(order_id))[-3:])


async def test_a_saved_draft_reopens_with_its_files_and_is_delivered(world: World) -> None:
    order_id = await accepted_order(world)
    channel = world.order_channel(order_id)
    file_id = world.slack.add_file("T1", SELLER, "draft.pdf", b"%PDF draft", channel)
    await world.click(SELLER, world.board(order_id), channel, "Deliver")
    await world.submit(SELLER, world.modal(SELLER), {"description": "Half done", "shared": payloads.checkboxes_value(
        [file_id]), "options": payloads.checkboxes_value(["draft", "final"])})
    order = world.gig.queries.order(order_id)
    assert order.state is OrderState.IN_PROGRESS and order.draft and order.draft.files[0].name == "draft.pdf"

    await world.click(SELLER, world.board(order_id), channel, "Deliver")
    reopened = world.modal(SELLER)
    inputs = {blk["block_id"]: blk["element"] for blk in reopened["blocks"] if blk["type"] == "input"}
    assert inputs["description"]["initial_value"] == "Half done"
    assert {o["value"] for o in inputs["options"]["initial_options"]} == {"draft_files", "final"}
    await world.submit(SELLER, reopened, {"description": "All done", "options": payloads.checkboxes_value(
        ["draft_files", "final"])})
    order = world.gig.queries.order(order_id)
    assert order.state is OrderState.DELIVERED
    assert order.deliveries[-1].description == "All done" and order.deliveries[-1].files[0].name == "draft.pdf"
    assert order.deliveries[-1].kind.value == "final"


async def test_final_work_with_a_file_is_released_to_the_buyer_by_the_review(world: World) -> None:
    order_id = await accepted_order(world)
    channel = world.order_channel(order_id)
    await deliver(world, order_id)
    await world.click(BUYER, world.board(order_id), channel, "Accept delivery")
    file_id = world.slack.add_file("T1", SELLER, "final.zip", b"PK final", channel)
    await world.click(SELLER, world.board(order_id), channel, "Send final work")
    await world.submit(SELLER, world.modal(SELLER), {"description": "Final files",
                                                     "shared": payloads.checkboxes_value([file_id])})
    assert "final.zip" not in text_of(world.board(order_id)), "the buyer sees the final work only after the review"
    await world.click(BUYER, world.board(order_id), channel, "Leave review")
    review = world.modal(BUYER)
    missing = await world.submit(BUYER, review, {"text": "Great"})
    assert "rating" in missing.json["errors"]
    await world.submit(BUYER, review, {"rating": payloads.select_value("4"), "text": "Great"})
    order = world.gig.queries.order(order_id)
    assert order.state is OrderState.COMPLETED and order.final_work_released
    assert "final.zip" in text_of(world.board(order_id))


async def test_a_cancellation_request_is_answered_and_silence_cancels(world: World) -> None:
    order_id = await accepted_order(world)
    channel = world.order_channel(order_id)
    await world.click(BUYER, world.board(order_id), channel, "Ask to cancel")
    await world.submit(BUYER, world.modal(BUYER), {"reason": "Plans changed"})
    await world.click(SELLER, world.last_dm(SELLER), world.dm_channel(SELLER), "Answer cancellation")
    await world.submit(SELLER, world.modal(SELLER), {"agree": payloads.select_value("no")})
    assert world.gig.queries.order(order_id).state is OrderState.IN_PROGRESS

    await world.click(SELLER, world.board(order_id), channel, "Ask to cancel")
    await world.submit(SELLER, world.modal(SELLER), {"reason": "I am ill"})
    with time_machine.travel(world.gig.clock.now() + timedelta(hours=48, minutes=1), tick=True):
        await world.settle()
    order = world.gig.queries.order(order_id)
    assert order.state is OrderState.CANCELLED and order.refunded == order.terms.total
    assert world.slack.channel(channel)["is_archived"]


async def test_a_tip_after_completion_and_the_invoice_and_earnings_for_the_seller(world: World) -> None:
    order_id = await accepted_order(world)
    channel = world.order_channel(order_id)
    await deliver(world, order_id, options=payloads.checkboxes_value(["no_file", "final"]))
    await world.click(BUYER, world.board(order_id), channel, "Accept delivery")
    assert world.gig.queries.order(order_id).state is OrderState.COMPLETED
    await world.click(BUYER, world.board(order_id), channel, "Tip")
    tip = world.modal(BUYER)
    assert "amount" in (await world.submit(BUYER, tip, {"amount": "-3"})).json["errors"]
    await world.submit(BUYER, tip, {"amount": "5"})
    assert world.gig.queries.order(order_id).tips == 500

    await world.click(SELLER, world.board(order_id), channel, "My earnings")
    assert world.heard(SELLER, "forecast net earnings are *45.00 USD*") or world.heard(SELLER, "net earnings are")
    await world.click(BUYER, world.board(order_id), channel, "My earnings")
    assert world.heard(BUYER, "Only the seller sees")

    await world.click(SELLER, world.board(order_id), channel, "Download invoice")
    upload = world.slack.last("files.completeUploadExternal")
    assert upload.ok and upload.params["channel_id"] == world.dm_channel(SELLER)
    pdf = world.slack.files[upload.params["files"][0]["id"]].content
    import io

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert order_id in text and "Settlement statement" in text and "Net earnings" in text

    await world.click(BUYER, world.board(order_id), channel, "Download invoice")
    upload = world.slack.last("files.completeUploadExternal")
    assert upload.ok and upload.params["channel_id"] == world.dm_channel(BUYER)
    pdf = world.slack.files[upload.params["files"][0]["id"]].content
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Sales invoice" in text and "Tips to the seller" in text
    assert "fee" not in text.lower() and "net earnings" not in text.lower()


async def test_files_uploaded_in_the_modal_are_copied_with_their_checksum(world: World) -> None:
    import hashlib

    order_id = await accepted_order(world)
    content = b"logo " * 4000
    file_id = world.slack.add_file("T1", SELLER, "logo.svg", content)  # uploaded in the modal: shared nowhere
    await world.click(SELLER, world.board(order_id), world.order_channel(order_id), "Deliver")
    answer = await world.submit(SELLER, world.modal(SELLER), {"description": "Vector logo", "files": payloads.files_value(
        [world.slack.file_json(file_id)])})
    assert answer.json["response_action"] == "update", "copying files: the modal says so at once"
    delivered = world.gig.queries.order(order_id).deliveries[-1].files[0]
    assert (delivered.name, delivered.size, delivered.sha256) == ("logo.svg", len(content), hashlib.sha256(content).hexdigest())
    assert world.slack.downloads, "the file was downloaded from Slack with the bot's token"


async def test_amounts_on_slack_are_plain_decimals_within_the_community_maximum(world: World) -> None:
    """`1,5` was tipped and withdrawn as 15.00; 10**30 must be refused in a sentence, not crash."""
    order_id = await accepted_order(world)
    channel = world.order_channel(order_id)
    await deliver(world, order_id, options=payloads.checkboxes_value(["no_file", "final"]))
    await world.click(BUYER, world.board(order_id), channel, "Accept delivery")
    await world.command(ADMIN, "admin policy max_amount 100")
    await world.click(BUYER, world.board(order_id), channel, "Tip")
    tip = world.modal(BUYER)
    for text, error in (("1,5", "has a comma"), ("1e2", "is not an amount"), ("inf", "is not an amount"),
                        ("150", "more than this community's maximum of 100.00 USD")):
        answer = await world.submit(BUYER, tip, {"amount": text})
        assert answer.json["response_action"] == "errors" and error in str(answer.json["errors"]), (text, answer.json)
    assert world.gig.queries.order(order_id).tips == 0
    for text, said in (("1,5", "has a comma"), (str(10**30), "more than gigroom handles in one amount"),
                       ("0x10", "is not an amount")):
        await world.command(SELLER, f"withdraw {text}")
        assert world.heard(SELLER, said), (text, world.said_to(SELLER))
    await world.command(ADMIN, "admin policy")
    assert world.heard(ADMIN, "`max_amount`: 100 USD")
