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


# Every unit of work encodes and decodes an order: the adapters' compiled serializers and validators are
# called directly (TypeAdapter's own methods add a layer of checks per call).
_DUMP = {cls: adapter.serializer.to_json for cls, adapter in _ADAPTERS.items()}
_LOAD = {cls: adapter.validator.validate_json for cls, adapter in _ADAPTERS.items()}


def dump(item: Any) -> str:
    exclude = _ORDER_TRANSIENT if isinstance(item, Order) else None
    text: bytes = _DUMP[type(item)](item, exclude=exclude)
    return text.decode()


def load(kind: type[T], text: str | bytes) -> T:
    loaded: T = _LOAD[kind](text)
    return loaded


def dump_event(event: Event) -> str:
    text: bytes = _DUMP[type(event)](event)
    return text.decode()


def load_event(type_name: str, text: str | bytes) -> Event:
    loaded: Event = _LOAD[EVENT_TYPES[type_name]](text)
    return loaded
