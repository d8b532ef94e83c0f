"""Domain objects to JSON and back, with pydantic: the core stays plain dataclasses."""

from typing import Any, TypeVar

from pydantic import TypeAdapter

from core.community import Withdrawal
from core.events import EVENT_TYPES, Event
from core.order import Order
from core.policy import Policy
from core.terms import Listing, Offer

T = TypeVar("T")
_ADAPTERS: dict[type, TypeAdapter[Any]] = {
    cls: TypeAdapter(cls) for cls in (Order, Listing, Offer, Policy, Withdrawal, *EVENT_TYPES.values())
}
_ORDER_TRANSIENT = {"events", "transactions", "version"}


def dump(item: Any) -> str:
    exclude = _ORDER_TRANSIENT if isinstance(item, Order) else None
    return _ADAPTERS[type(item)].dump_json(item, exclude=exclude).decode()


def load(kind: type[T], text: str | bytes) -> T:
    loaded: T = _ADAPTERS[kind].validate_json(text)
    return loaded


def dump_event(event: Event) -> str:
    return _ADAPTERS[type(event)].dump_json(event).decode()


def load_event(type_name: str, text: str | bytes) -> Event:
    loaded: Event = _ADAPTERS[EVENT_TYPES[type_name]].validate_json(text)
    return loaded
