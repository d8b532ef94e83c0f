"""Sentences name people as the platform does: each adapter passes describe() and board_lines() its namer."""

import re
from datetime import UTC, datetime

import pytest

from adapters.text import board_lines, describe
from core import events as ev
from core.actor import Actor
from core.order import Order
from core.policy import Policy
from core.views import board
from tests.market import SERVICE
from tests.samples import sample

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
PEOPLE = {"buyer_id": "UBEA", "seller_id": "USAM", "author_id": "UBEA", "admin_id": "UADA", "user_id": "USAM"}
KNOWN = {**PEOPLE, "order_id": "O7K2P9QX", "community_id": "slack:T1", "currency": "USD", "rating": 5}


def unnamed(text: str) -> list[str]:
    """The people's ids that stand in a text outside the namer's brackets."""
    bare = re.sub(r"\[[A-Z0-9]+\]", "", text)
    return [user_id for user_id in set(PEOPLE.values()) if user_id in bare]


@pytest.mark.parametrize("kind", list(ev.EVENT_TYPES.values()), ids=list(ev.EVENT_TYPES))
def test_every_event_sentence_names_each_person_through_the_namer(kind: type[ev.Event]) -> None:
    event = sample(kind, KNOWN, NOW)
    text = describe(event, lambda user_id: f"[{user_id}]")
    assert not unnamed(text), text
    assert describe(event) == text.replace("[", "").replace("]", ""), "the shell's default names people by their id"


def test_the_withdrawal_and_payout_sentences_name_the_seller() -> None:
    for kind in (ev.WithdrawalRequested, ev.WithdrawalPaid):
        assert "[USAM]" in describe(sample(kind, KNOWN, NOW), lambda user_id: f"[{user_id}]")


def test_the_board_names_its_buyer_and_seller_through_the_namer() -> None:
    order = Order.place("O7K2P9QX", Actor("slack:T1", "UBEA"), "USAM", SERVICE.terms((), 1000), Policy(), NOW)
    lines = board_lines(board(order, Actor("slack:T1", "UBEA"), NOW), name=lambda user_id: f"[{user_id}]")
    assert "│ Buyer: [UBEA] · Seller: [USAM]" in lines
    assert not unnamed("\n".join(lines))
