"""The Slack adapter's pure parts: channel names, modal values, listing forms, Block Kit limits."""

import re
from dataclasses import replace

import pytest

from adapters.slack import blocks as b
from adapters.slack.forms import FORMS, FieldError, Values, requirements_form
from adapters.slack.listeners import listing_service, read_values
from adapters.slack.sink import channel_name
from core.actor import Actor
from core.lifecycle import Action
from core.order import Order
from tests.market import SERVICE

VALID_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")


def _order(title: str) -> Order:
    terms = SERVICE.terms((), 1000)
    return _stub(replace(terms, title=title))


def _stub(terms: object) -> Order:
    order = Order.__new__(Order)
    object.__setattr__(order, "id", "OD0WGX70")
    object.__setattr__(order, "terms", terms)
    return order


@pytest.mark.parametrize("title", ["Logo design", "ÉLAN — Brand & Web!!", "x" * 200, "   ", "日本語のロゴ"])
def test_an_order_channel_name_is_valid_readable_and_names_the_order(title: str) -> None:
    order = _order(title)
    for attempt in range(3):
        name = channel_name(order, attempt)
        assert VALID_NAME.match(name), name
        assert name.startswith("order-od0wgx70")
    assert len({channel_name(order, attempt) for attempt in range(3)}) == 3


def test_a_submitted_modal_is_read_by_block_id() -> None:
    view = {"state": {"values": {
        "description": {"description": {"type": "plain_text_input", "value": " Here it is "}},
        "options": {"options": {"type": "checkboxes", "selected_options": [{"value": "final"}]}},
        "rating": {"rating": {"type": "static_select", "selected_option": {"value": "4"}}},
        "files": {"files": {"type": "file_input", "files": [{"id": "F1", "name": "logo.png"}]}},
    }}}
    values = read_values(view)
    assert values.text("description") == "Here it is"
    assert values.chosen("options") == ["final"] and values.chosen("rating") == ["4"]
    assert values.data["files"] == [{"id": "F1", "name": "logo.png"}]


def test_a_listing_form_with_a_bad_price_points_at_the_price() -> None:
    values = Values({"title": "Logo", "description": "Logos", "price": "fifty", "delivery_days": "3"})
    with pytest.raises(FieldError) as caught:
        listing_service(values, "USD")
    assert caught.value.block_id == "price"


def test_a_listing_form_reads_extras_and_questions() -> None:
    values = Values({"title": "Logo", "description": "Logos", "price": "50", "delivery_days": "3", "deliveries": "2",
                     "extras": "fast:24h delivery:15:days=-2\nnda:NDA:10:nda", "questions": "Brand name?\n\nColours?"})
    service = listing_service(values, "USD")
    assert (service.price, service.deliveries, service.questions) == (5000, 2, ("Brand name?", "Colours?"))
    assert [(e.code, e.price, e.days, e.nda) for e in service.extras] == [("fast", 1500, -2, False),
                                                                           ("nda", 1000, 0, True)]


def test_a_form_refuses_a_duration_it_cannot_read_under_its_input() -> None:
    with pytest.raises(FieldError) as caught:
        FORMS[Action.REQUEST_TIME].build(Actor("slack:T1", "U1"), "OD0WGX70", Values({"extra": "soon", "reason": "x"}),
                                         None)  # type: ignore[arg-type]
    assert caught.value.block_id == "extra"


def test_every_modal_keeps_to_slacks_limits() -> None:
    forms = [*FORMS.values(), requirements_form(tuple(f"Question {i}?" for i in range(30)))]
    for form in forms:
        view = b.form_modal(form, "gr1:dl:OD0WGX70", "OD0WGX70", "A title " * 40)
        assert len(view["title"]["text"]) <= 24 and len(view["submit"]["text"]) <= 24
        assert len(view["blocks"]) <= 100
    listing = b.listing_modal(None, "USD")
    assert len(listing["title"]["text"]) <= 24
