"""Every modal submission is acked, and a submission gigroom cannot read says so in the modal (issue 10, item 7)."""

import pytest

from core.lifecycle import OrderState
from tests.slack import payloads
from tests.slack.test_commands import accepted_order
from tests.slack.world import SELLER, TEAM, World

pytestmark = pytest.mark.timeout(60)


def shown_in_modal(answer: object) -> str:
    """The text of the view an ack replaced the modal with; fails when the ack was missing or said nothing."""
    body = answer.json  # type: ignore[attr-defined]
    assert body.get("response_action") == "update", body
    return " ".join(block["text"]["text"] for block in body["view"]["blocks"])


async def test_a_submission_with_a_field_of_the_wrong_type_is_acked_with_the_error_in_the_modal(world: World) -> None:
    order_id = await accepted_order(world)
    await world.click(SELLER, world.board(order_id), world.order_channel(order_id), "Deliver")
    modal = world.modal(SELLER)
    wrong = {"description": {"type": "plain_text_input", "value": {"not": "text"}},
             "options": {"type": "checkboxes", "selected_options": "no_file"}}
    by_block = {block["block_id"]: {block["element"]["action_id"]: wrong[block["block_id"]]}
                for block in modal["blocks"] if block.get("type") == "input" and block["block_id"] in wrong}
    answer = await world.post(payloads.view_submission(TEAM, SELLER, values=by_block, view=modal, standin=world.slack))
    assert answer.status == 200
    assert "nothing was changed" in shown_in_modal(answer)
    assert world.gig.queries.order(order_id).state is OrderState.IN_PROGRESS


async def test_a_submission_for_an_action_with_no_form_is_acked_with_the_error_in_the_modal(world: World) -> None:
    order_id = await accepted_order(world)
    answer = await world.post(payloads.view_submission(TEAM, SELLER, callback_id=f"gr1:ac:{order_id}", values={},
                                                       standin=world.slack))
    assert answer.status == 200
    assert "no form" in shown_in_modal(answer)
    assert world.gig.queries.order(order_id).state is OrderState.IN_PROGRESS


async def test_a_submission_for_a_form_that_is_not_gigroom_s_is_acked_with_the_error_in_the_modal(world: World) -> None:
    answer = await world.post(payloads.view_submission(TEAM, SELLER, callback_id="gr1:zz:O0000000", values={},
                                                       standin=world.slack))
    assert answer.status == 200
    assert "nothing was changed" in shown_in_modal(answer)
