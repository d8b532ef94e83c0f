"""Buttons: one encoding of order + action for every platform. Boards: what each viewer sees."""

from datetime import UTC, datetime, timedelta

import pytest

from core.actor import Actor
from core.buttons import MAX_LENGTH, Button, decode
from core.errors import Refused
from core.lifecycle import RULES, Action, OrderState
from core.order import Order
from core.order_parts import DeliveryKind, TimerKind
from core.policy import Policy
from core.views import board
from tests.market import FILE, SERVICE

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
BUYER, SELLER = Actor("shell:t", "bea"), Actor("shell:t", "sam")
ADMIN, STRANGER = Actor("shell:t", "ada", is_admin=True), Actor("shell:t", "eve")


@pytest.mark.parametrize("action", list(Action))
def test_every_action_round_trips_through_its_button_id(action: Action) -> None:
    button = Button(action, "O7K2P9QX")
    assert decode(button.encode()) == button
    assert len(button.encode()) <= MAX_LENGTH


def test_a_button_id_fits_discords_100_characters_even_with_an_argument() -> None:
    button = Button(Action.ANSWER_CANCELLATION, "O7K2P9QX", "yes")
    assert decode(button.encode()) == button
    with pytest.raises(ValueError, match="longer than 100"):
        Button(Action.TIP, "O7K2P9QX", "x" * 100).encode()


@pytest.mark.parametrize("junk", ["", "gr1", "gr1:zz:O1", "gr2:dl:O7K2P9QX", "gr1:dl:../etc", "other:dl:O1"])
def test_an_id_gigroom_did_not_make_is_refused(junk: str) -> None:
    with pytest.raises(ValueError, match="not a gigroom button"):
        decode(junk)


def test_action_codes_are_unique() -> None:
    assert len({a.value for a in Action}) == len(Action)


def placed() -> Order:
    order = Order.place("O7K2P9QX", BUYER, "sam", SERVICE.terms(("nda",), 1000), Policy(), NOW)
    order.submit_requirements(BUYER, ("Acme",), NOW)
    return order


def labels(order: Order, viewer: Actor, now: datetime = NOW) -> list[str]:
    return [b.label for b in board(order, viewer, now).buttons]


def test_the_board_offers_each_viewer_only_the_buttons_of_their_role_and_the_state() -> None:
    order = placed()
    assert labels(order, SELLER) == ["Accept", "Decline", "Download invoice"]
    assert labels(order, BUYER) == ["Download invoice"]
    assert labels(order, STRANGER) == []
    order.accept(SELLER, NOW)
    assert labels(order, SELLER) == ["Deliver", "Request more time", "Problem with order", "Ask to cancel",
                                     "Download invoice"]
    order.deliver(SELLER, "Draft", (FILE,), (), DeliveryKind.PREVIEW, False, NOW)
    assert labels(order, BUYER) == ["Problem with order", "Accept delivery", "Request modification",
                                    "Extend review time", "Ask to cancel", "Download invoice"]


def test_the_forecast_net_earnings_are_shown_to_the_seller_only() -> None:
    order = placed()
    assert board(order, SELLER, NOW).net == "54.00 USD"
    assert board(order, BUYER, NOW).net is None
    assert board(order, BUYER, NOW).total == "60.00 USD"


def test_the_board_counts_down_to_the_due_date_and_then_shows_how_late() -> None:
    order = placed()
    order.accept(SELLER, NOW)
    assert board(order, BUYER, NOW + timedelta(hours=1)).countdown == "due in 2d23h"
    order.on_timer(TimerKind.LATE, NOW + timedelta(days=3))
    view = board(order, BUYER, NOW + timedelta(days=3, hours=2))
    assert view.countdown == "due 2h ago" and view.status == "In progress, late"


def test_the_final_work_stays_hidden_from_the_buyer_until_the_review() -> None:
    order = placed()
    order.accept(SELLER, NOW)
    order.deliver(SELLER, "Preview", (FILE,), (), DeliveryKind.PREVIEW, False, NOW)
    order.accept_delivery(BUYER, NOW)
    order.send_final_work(SELLER, "Final", (FILE,), (), False, NOW)
    assert [d.number for d in board(order, BUYER, NOW).deliveries] == [1]
    assert [d.number for d in board(order, SELLER, NOW).deliveries] == [1, 2]
    order.leave_review(BUYER, 5, "Great", NOW)
    assert [d.number for d in board(order, BUYER, NOW).deliveries] == [1, 2]


def test_every_button_on_a_board_names_a_rule_of_the_lifecycle_table() -> None:
    with_buttons = {rule.action for rule in RULES if rule.button}
    order = placed()
    assert {b.action for b in board(order, SELLER, NOW).buttons} <= with_buttons
    assert OrderState.AWAITING_ACCEPTANCE is order.state


def test_the_requirements_answers_are_on_the_board_while_the_seller_decides() -> None:
    order = placed()
    assert order.state is OrderState.AWAITING_ACCEPTANCE
    question = SERVICE.questions[0]
    assert board(order, SELLER, NOW).answers == ((question, "Acme"),)
    assert board(order, BUYER, NOW).answers == ((question, "Acme"),), "the buyer sees what they answered"
    assert board(order, ADMIN, NOW).answers == ((question, "Acme"),)
    assert board(order, STRANGER, NOW).answers == ()


def test_the_requester_of_a_cancellation_sees_withdraw_cancellation_request_and_the_other_side_answers() -> None:
    order = placed()
    order.accept(SELLER, NOW)
    order.request_cancellation(BUYER, "Plans changed", NOW)
    assert "Withdraw cancellation request" in labels(order, BUYER)
    assert "Answer cancellation" not in labels(order, BUYER)
    assert "Answer cancellation" in labels(order, SELLER)
    assert "Withdraw cancellation request" not in labels(order, SELLER)


def test_counts_are_written_in_the_singular_for_one() -> None:
    from core.words import plural
    assert plural(1, "delivery", "deliveries") == "1 delivery"
    assert plural(2, "delivery", "deliveries") == "2 deliveries"
    assert plural(1, "requirement question", every=True) == "the requirement question"
    assert plural(3, "requirement question", every=True) == "all 3 requirement questions"
    order = Order.place("O7K2P9QX", BUYER, "sam", SERVICE.terms((), 1000), Policy(), NOW)
    with pytest.raises(Refused, match=r"^Answer the requirement question: "):
        order.submit_requirements(BUYER, (), NOW)


def test_a_refusal_names_the_field_that_fixes_it_and_the_shell_names_its_flag() -> None:
    from adapters.shell.shell import refused
    order = placed()
    order.accept(SELLER, NOW)
    with pytest.raises(Refused) as caught:
        order.deliver(SELLER, "Concepts", (), (), DeliveryKind.PREVIEW, False, NOW)
    assert caught.value.field == "confirm_no_file"
    assert caught.value.reason == "No file is attached. Confirm that this delivery has no file, or attach one."
    assert refused(caught.value) == "No file is attached: confirm with --no-file, or attach one with --file PATH."


def test_every_board_button_has_a_shell_command_the_shell_can_read() -> None:
    from adapters.shell.parser import PARSERS
    from adapters.shell.shell import COMMANDS, WITHDRAW_OWN_REQUEST
    for rule in RULES:
        if rule.button:
            assert rule.action in COMMANDS, f"no shell command for the button {rule.button!r}"
    for template in (*COMMANDS.values(), WITHDRAW_OWN_REQUEST):
        assert template.split()[0] in PARSERS


def test_only_the_parties_and_admins_read_an_order() -> None:
    from core.errors import NotFound, Refused
    order = placed()
    assert order.readable(BUYER) and order.readable(SELLER) and order.readable(Actor("shell:t", "ada", True))
    with pytest.raises(Refused, match="is not yours"):
        order.check_read(Actor("shell:t", "eve"))
    with pytest.raises(NotFound, match="There is no order"):
        order.check_read(Actor("shell:other", "ada", True))
