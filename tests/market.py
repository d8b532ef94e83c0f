"""A small driver for tests: a community with a seller, a buyer, an admin and a stranger."""

from dataclasses import replace
from typing import Any, TypeVar

from adapters.clock import SystemClock
from adapters.db.connect import Database
from adapters.db.queries import Queries
from adapters.db.uow import SqlUnitOfWork
from core import commands as c
from core import events as ev
from core.actor import Actor
from core.engine import Engine, Outcome
from core.lifecycle import OrderState
from core.order import Order
from core.order_parts import DeliveryKind, FileRef
from core.ports import Clock
from core.terms import Extra, Service

SERVICE = Service(title="Logo design", description="Three logo concepts", price=5000, currency="USD",
                  delivery_days=3, deliveries=2, licence="Commercial use",
                  extras=(Extra("nda", "Non-disclosure agreement", 1000, nda=True),
                          Extra("fast", "Delivery in 1 day", 2000, days=-2),
                          Extra("rev", "One more revision", 500, deliveries=1)),
                  questions=("What is your brand called?",))
FILE = FileRef("logo.png", 2048, "ab" * 32, "ab" * 32)
E = TypeVar("E", bound=ev.Event)


def one(outcome: Outcome, kind: type[E]) -> E:
    """The one event of this kind an outcome holds."""
    found = [e for e in outcome.events if isinstance(e, kind)]
    assert len(found) == 1, [type(e).__name__ for e in outcome.events]
    return found[0]


class Market:
    def __init__(self, database: Database, clock: Clock | None = None, community: str = "test") -> None:
        self.database = database
        self.clock = clock or SystemClock()
        self.engine = Engine(lambda: SqlUnitOfWork(database, self.clock.now), self.clock)
        self.community = self.engine.ensure_community("shell", community, community.title())
        cid = self.community.id
        self.seller, self.buyer = Actor(cid, "sam"), Actor(cid, "bea")
        self.admin, self.stranger = Actor(cid, "ada", is_admin=True), Actor(cid, "eve")

    def do(self, command: type[c.Command], actor: Actor, **fields: Any) -> Outcome:
        return self.engine.handle(command(actor=actor, **fields))

    def listing(self, **changes: Any) -> str:
        return self.do(c.CreateListing, self.seller, service=replace(SERVICE, **changes)).ref

    def order(self, until: OrderState = OrderState.AWAITING_REQUIREMENTS, extras: tuple[str, ...] = (),
              final: bool = False, **changes: Any) -> str:
        """A new order, driven along the happy path until it is in state `until`."""
        order_id = self.do(c.PlaceOrder, self.buyer, listing_id=self.listing(**changes), extras=extras).ref
        steps = [
            (OrderState.AWAITING_ACCEPTANCE, lambda: self.do(c.SubmitRequirements, self.buyer, order_id=order_id,
                                                             answers=("Acme",) * len(self.get(order_id).terms.questions))),
            (OrderState.IN_PROGRESS, lambda: self.do(c.AcceptOrder, self.seller, order_id=order_id)),
            (OrderState.DELIVERED, lambda: self.deliver(order_id, final=final)),
            (OrderState.ACCEPTED, lambda: self.do(c.AcceptDelivery, self.buyer, order_id=order_id)),
            (OrderState.COMPLETED, lambda: self.do(c.ConfirmAlreadySent, self.seller, order_id=order_id)),
        ]
        for state, step in steps:
            if self.get(order_id).state == until:
                break
            if self.get(order_id).state != state:
                step()
        assert self.get(order_id).state == until, self.get(order_id).state
        return order_id

    def deliver(self, order_id: str, final: bool = False, **fields: Any) -> Outcome:
        fields.setdefault("description", "Here is the work")
        fields.setdefault("files", (FILE,))
        kind = DeliveryKind.FINAL if final else DeliveryKind.PREVIEW
        return self.do(c.DeliverOrder, self.seller, order_id=order_id, kind=kind, **fields)

    def get(self, order_id: str) -> Order:
        with self.engine.unit_of_work() as uow:
            order = uow.orders.get(order_id)
            assert order is not None
            return order

    def balance(self, account: str, currency: str = "USD") -> int:
        with self.engine.unit_of_work() as uow:
            return uow.ledger.balance(self.community.id, account, currency)

    def history(self, order_id: str) -> list[ev.Event]:
        """Every event of the order, as written to the outbox (timers' events included)."""
        return Queries(self.database).history(order_id)

    def fire(self) -> int:
        return self.engine.fire_due()
