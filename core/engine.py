"""The engine: runs each command in one unit of work, fires due timers, and answers queries."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from core import commands as c
from core import events as ev
from core import ledger
from core.actor import Actor, Owed
from core.community import Community, Withdrawal, WithdrawalState
from core.errors import Conflict, NotFound, Refused
from core.ids import new_id, normalise
from core.money import check_amount, check_currency, format_amount
from core.order import Order
from core.policy import Policy
from core.ports import Clock, DueTimer, UnitOfWork
from core.terms import Listing, Offer, OfferStatus

RETRIES = 5


@dataclass(frozen=True, slots=True)
class Outcome:
    ref: str = ""  # the id of what the command made or touched
    events: tuple[ev.Event, ...] = ()
    replayed: bool = False  # a retry of a request already handled: nothing happened again


@dataclass(slots=True)
class Context:
    """What one command's handler works with: its transaction, its moment, the events it emits."""

    uow: UnitOfWork
    now: datetime
    events: list[ev.Event]

    def emit(self, *events: ev.Event) -> None:
        self.events.extend(events)


Handler = Callable[[Context, Any], str]


class Engine:
    def __init__(self, unit_of_work: Callable[[], UnitOfWork], clock: Clock) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock

    def handle(self, command: c.Command) -> Outcome:
        """Run a command to its end: one transaction, or a refusal that changed nothing."""
        for _ in range(RETRIES):
            try:
                return self._attempt(command)
            except Conflict:
                continue
            except Refused:
                # A copy of this request may have committed while this one ran: then it is a retry, not a refusal.
                if command.key is not None and (ref := self._handled(command)) is not None:
                    return Outcome(ref, replayed=True)
                raise
        raise Refused("Too many people are acting on this at once: try again in a moment.")

    def _handled(self, command: c.Command) -> str | None:
        with self.unit_of_work() as uow:
            return uow.commands.seen(f"{command.actor.community_id}/{command.key}")

    def _attempt(self, command: c.Command) -> Outcome:
        with self.unit_of_work() as uow:
            key = None if command.key is None else f"{command.actor.community_id}/{command.key}"
            if key is not None and (ref := uow.commands.seen(key)) is not None:
                return Outcome(ref, replayed=True)
            now = self.clock.now()
            community = _community(uow, command.actor.community_id)
            actor = with_admin(command.actor, community.policy)
            if actor is not command.actor:
                command = replace(command, actor=actor)
            ctx = Context(uow, now, [])
            ref = HANDLERS[type(command)](ctx, command)
            emitted = ctx.events
            for event in emitted:
                uow.outbox.add(event)
            if key is not None:
                uow.commands.add(key, community.id, ref, now)
            uow.commit()
            return Outcome(ref, tuple(emitted))

    def ensure_community(self, platform: str, external_id: str, name: str, policy: Policy | None = None) -> Community:
        """The community of a workspace or server, made on first sight with the default policy."""
        key = Community.key(platform, external_id)
        for _ in range(RETRIES):
            try:
                with self.unit_of_work() as uow:
                    found = uow.communities.get(key)
                    if found:
                        return found
                    community = Community(key, platform, name, policy or Policy(), self.clock.now())
                    uow.communities.add(community)
                    uow.commit()
                    return community
            except Conflict:
                continue
        raise Refused("Could not set up this community: try again.")

    def fire_due(self, limit: int = 500) -> int:
        """Fire timers that have come due, each in its own transaction; how many fired."""
        fired = 0
        while fired < limit:
            try:
                if not self._fire_one():
                    break
            except Conflict:
                continue
            fired += 1
        return fired

    def _fire_one(self) -> bool:
        with self.unit_of_work() as uow:
            now = self.clock.now()
            timer = uow.timers.claim_due(now)
            if timer is None:
                return False
            uow.timers.done(timer)
            order = uow.orders.get(timer.order_id)
            if order is not None:
                self._fire_on(uow, order, timer, now)
            uow.commit()
            return True

    def _fire_on(self, uow: UnitOfWork, order: Order, timer: DueTimer, now: datetime) -> None:
        owed_before = order.owed()
        acted = order.on_timer(timer.kind, now)
        _save_order(uow, order, now)  # also writes back a deadline that moved after this timer was set
        if acted:
            for event in _drain(order, owed_before):
                uow.outbox.add(event)



def _save_order(uow: UnitOfWork, order: Order, now: datetime) -> None:
    uow.orders.save(order)  # first: a concurrent change to the order is found before any money moves
    for txn in order.transactions:
        uow.ledger.post(order.community_id, txn, now)


NUDGES = (ev.DueDateReminder, ev.OrderLate, ev.FinalWorkOverdue)


def _drain(order: Order, owed_before: tuple[Owed, ...] | None = None) -> list[ev.Event]:
    """The order's new events; the last one names who owes the next action, when that changed."""
    found, order.events, order.transactions = order.events, [], []
    if not found or not isinstance(found[-1], ev.OrderEvent):
        return found
    owed = order.owed()
    if owed != owed_before or isinstance(found[-1], NUDGES):
        found[-1] = replace(found[-1], owed=owed)
    return found


def uow_order(uow: UnitOfWork, actor: Actor, order_id: str) -> Order:
    """The order with this id in the actor's community; other communities' orders do not exist here."""
    order = uow.orders.get(normalise(order_id))
    if order is None or order.community_id != actor.community_id:
        raise NotFound(f"There is no order {order_id} here.")
    return order


def _community(uow: UnitOfWork, community_id: str) -> Community:
    community = uow.communities.get(community_id)
    if community is None:
        raise NotFound("This community has not been set up with gigroom.")
    return community


def with_admin(actor: Actor, policy: Policy) -> Actor:
    """The actor, an admin too when the community's policy names them."""
    return actor if actor.is_admin or actor.user_id not in policy.admins else replace(actor, is_admin=True)


# ---- handlers: one small function per command ------------------------------------------------------
def _on_order(act: Callable[[Order, Any, datetime], None]) -> Handler:
    def handler(ctx: Context, command: Any) -> str:
        order = uow_order(ctx.uow, command.actor, command.order_id)
        owed_before = order.owed()
        order.catch_up(ctx.now)  # a deadline that came before this command acts first
        act(order, command, ctx.now)
        _save_order(ctx.uow, order, ctx.now)
        ctx.emit(*_drain(order, owed_before))
        return order.id
    return handler


def _set_policy(ctx: Context, cmd: c.SetPolicy) -> str:
    uow, now = ctx.uow, ctx.now
    community = _community(uow, cmd.actor.community_id)
    if not cmd.actor.is_admin:
        raise Refused("Only admins can change the community's policy.")
    community.policy = community.policy.with_setting(cmd.setting, cmd.value)
    uow.communities.save(community)
    value = community.policy.describe()[cmd.setting]
    ctx.emit(ev.PolicyChanged(community_id=community.id, at=now, admin_id=cmd.actor.user_id,
                                  setting=cmd.setting, value=value))
    return community.id


def _create_listing(ctx: Context, cmd: c.CreateListing) -> str:
    uow, now = ctx.uow, ctx.now
    service = _priced(cmd.service, uow, cmd.actor)
    listing = Listing(new_id("L"), cmd.actor.community_id, cmd.actor.user_id, service, now, now)
    uow.listings.add(listing)
    ctx.emit(ev.ListingSaved(community_id=listing.community_id, at=now, listing_id=listing.id,
                                 seller_id=listing.seller_id, title=service.title, created=True, active=True))
    return listing.id


def _update_listing(ctx: Context, cmd: c.UpdateListing) -> str:
    uow, now = ctx.uow, ctx.now
    listing = _listing(uow, cmd.actor, cmd.listing_id)
    if listing.seller_id != cmd.actor.user_id and not cmd.actor.is_admin:
        raise Refused("Only the seller who made a listing can change it.")
    if cmd.service is not None:
        listing.service = _priced(cmd.service, uow, cmd.actor)
    if cmd.active is not None:
        listing.active = cmd.active
    listing.updated_at = now
    uow.listings.save(listing)
    ctx.emit(ev.ListingSaved(community_id=listing.community_id, at=now, listing_id=listing.id,
                                 seller_id=listing.seller_id, title=listing.service.title, created=False,
                                 active=listing.active))
    return listing.id


def _make_offer(ctx: Context, cmd: c.MakeOffer) -> str:
    uow, now = ctx.uow, ctx.now
    if cmd.buyer_id == cmd.actor.user_id:
        raise Refused("A custom offer goes to someone else: you can't make one to yourself.", field="buyer_id")
    community = _community(uow, cmd.actor.community_id)
    service = _priced(cmd.service, uow, cmd.actor)
    offer = Offer(new_id("F"), community.id, cmd.actor.user_id, cmd.buyer_id, service, now,
                  now + community.policy.offer_validity, extras=cmd.extras)
    terms = offer.terms((), community.policy.fee_bps)  # the extras the seller included, checked
    uow.offers.add(offer)
    ctx.emit(ev.OfferMade(community_id=community.id, at=now, offer_id=offer.id, seller_id=offer.seller_id,
                              buyer_id=offer.buyer_id, title=service.title, total=terms.total,
                              currency=terms.currency, expires_at=offer.expires_at, extras=offer.addable))
    return offer.id


def _answer_offer(ctx: Context, cmd: c.AnswerOffer) -> str:
    uow, now = ctx.uow, ctx.now
    offer = _offer(uow, cmd.actor, cmd.offer_id)
    offer.check_answer(cmd.actor.user_id, now)
    if not cmd.accept:
        offer.status = OfferStatus.DECLINED
        uow.offers.save(offer)
        ctx.emit(_offer_closed(offer, now))
        return offer.id
    community = _community(uow, offer.community_id)
    terms = offer.terms(cmd.extras, community.policy.fee_bps)
    order = Order.place(new_id("O"), cmd.actor, offer.seller_id, terms, community.policy, now, offer_id=offer.id)
    offer.status, offer.order_id = OfferStatus.ACCEPTED, order.id
    uow.offers.save(offer)
    return _placed(ctx, order)


def _withdraw_offer(ctx: Context, cmd: c.WithdrawOffer) -> str:
    uow, now = ctx.uow, ctx.now
    offer = _offer(uow, cmd.actor, cmd.offer_id)
    offer.check_open(now)
    if offer.seller_id != cmd.actor.user_id:
        raise Refused("Only the seller who made the offer can withdraw it.")
    offer.status = OfferStatus.WITHDRAWN
    uow.offers.save(offer)
    ctx.emit(_offer_closed(offer, now))
    return offer.id


def _place_order(ctx: Context, cmd: c.PlaceOrder) -> str:
    uow, now = ctx.uow, ctx.now
    listing = _listing(uow, cmd.actor, cmd.listing_id)
    if not listing.active:
        raise Refused(f"Listing {listing.id} is paused: it takes no orders now.")
    community = _community(uow, listing.community_id)
    terms = listing.service.terms(cmd.extras, community.policy.fee_bps)
    order = Order.place(new_id("O"), cmd.actor, listing.seller_id, terms, community.policy, now, listing_id=listing.id)
    return _placed(ctx, order)


def _placed(ctx: Context, order: Order) -> str:
    ctx.uow.orders.add(order)
    for txn in order.transactions:
        ctx.uow.ledger.post(order.community_id, txn, ctx.now)
    ctx.emit(*_drain(order))
    return order.id


def _request_withdrawal(ctx: Context, cmd: c.RequestWithdrawal) -> str:
    uow, now = ctx.uow, ctx.now
    community = _community(uow, cmd.actor.community_id)
    currency = check_currency(cmd.currency or community.policy.currency)
    seller = cmd.actor.user_id
    if cmd.amount <= 0:
        raise Refused("A withdrawal must be more than zero.")
    check_amount(cmd.amount, currency, community.policy.max_amount, "A withdrawal")
    have = uow.ledger.balance(community.id, ledger.available(seller), currency, lock=True)
    if cmd.amount > have:
        raise Refused(f"You have {format_amount(have, currency)} available to withdraw: "
                      f"{format_amount(cmd.amount, currency)} is more than that.")
    withdrawal = Withdrawal(new_id("W"), community.id, seller, cmd.amount, currency, now)
    uow.withdrawals.add(withdrawal)
    uow.ledger.post(community.id, ledger.move(ledger.TxnKind.WITHDRAWAL, currency, ledger.available(seller),
                                              ledger.withdrawing(seller), cmd.amount, memo=withdrawal.id), now)
    ctx.emit(ev.WithdrawalRequested(community_id=community.id, at=now, withdrawal_id=withdrawal.id,
                                        seller_id=seller, amount=cmd.amount, currency=currency))
    return withdrawal.id


def _pay_withdrawal(ctx: Context, cmd: c.PayWithdrawal) -> str:
    uow, now = ctx.uow, ctx.now
    if not cmd.actor.is_admin:
        raise Refused("Only admins mark withdrawals as paid.")
    withdrawal = uow.withdrawals.get(normalise(cmd.withdrawal_id))
    if withdrawal is None or withdrawal.community_id != cmd.actor.community_id:
        raise NotFound(f"There is no withdrawal {cmd.withdrawal_id} here.")
    if withdrawal.state is WithdrawalState.PAID:
        raise Refused(f"Withdrawal {withdrawal.id} was already marked paid.")
    withdrawal.state, withdrawal.paid_at = WithdrawalState.PAID, now
    withdrawal.paid_by, withdrawal.reference = cmd.actor.user_id, cmd.reference.strip()
    uow.withdrawals.save(withdrawal)
    seller = withdrawal.seller_id
    uow.ledger.post(withdrawal.community_id, ledger.move(
        ledger.TxnKind.PAYOUT, withdrawal.currency, ledger.withdrawing(seller), ledger.paid_out(seller),
        withdrawal.amount, memo=withdrawal.id), now)
    ctx.emit(ev.WithdrawalPaid(community_id=withdrawal.community_id, at=now, withdrawal_id=withdrawal.id,
                                   seller_id=seller, amount=withdrawal.amount, currency=withdrawal.currency,
                                   admin_id=cmd.actor.user_id, reference=withdrawal.reference))
    return withdrawal.id


def _priced(service: Any, uow: UnitOfWork, actor: Actor) -> Any:
    """The service checked, in the community's currency unless it names its own."""
    community = _community(uow, actor.community_id)
    currency = check_currency(service.currency or community.policy.currency)
    checked = replace(service, currency=currency).checked()
    limit = community.policy.max_amount
    check_amount(checked.price, currency, limit, "A price")
    for extra in checked.extras:
        check_amount(extra.price, currency, limit, f"The extra '{extra.code}'")
    return checked


def _tip(ctx: Context, cmd: c.Tip) -> str:
    """A tip is bounded by the community's maximum in force now, not the one frozen into the order."""
    order = uow_order(ctx.uow, cmd.actor, cmd.order_id)
    check_amount(cmd.amount, order.terms.currency, _community(ctx.uow, cmd.actor.community_id).policy.max_amount,
                 "A tip")
    return _on_order(lambda o, cmd, now: o.tip(cmd.actor, cmd.amount, now))(ctx, cmd)


def _listing(uow: UnitOfWork, actor: Actor, listing_id: str) -> Listing:
    listing = uow.listings.get(normalise(listing_id))
    if listing is None or listing.community_id != actor.community_id:
        raise NotFound(f"There is no listing {listing_id} here.")
    return listing


def _offer(uow: UnitOfWork, actor: Actor, offer_id: str) -> Offer:
    offer = uow.offers.get(normalise(offer_id))
    if offer is None or offer.community_id != actor.community_id:
        raise NotFound(f"There is no offer {offer_id} here.")
    return offer


def _offer_closed(offer: Offer, now: datetime) -> ev.OfferClosed:
    return ev.OfferClosed(community_id=offer.community_id, at=now, offer_id=offer.id, seller_id=offer.seller_id,
                          buyer_id=offer.buyer_id, title=offer.service.title, outcome=offer.status.value)


HANDLERS: dict[type[c.Command], Handler] = {
    c.SetPolicy: _set_policy,
    c.CreateListing: _create_listing,
    c.UpdateListing: _update_listing,
    c.MakeOffer: _make_offer,
    c.AnswerOffer: _answer_offer,
    c.WithdrawOffer: _withdraw_offer,
    c.PlaceOrder: _place_order,
    c.RequestWithdrawal: _request_withdrawal,
    c.PayWithdrawal: _pay_withdrawal,
    c.SubmitRequirements: _on_order(lambda o, cmd, now: o.submit_requirements(cmd.actor, cmd.answers, now)),
    c.CancelOrder: _on_order(lambda o, cmd, now: o.cancel(cmd.actor, cmd.reason, now)),
    c.AcceptOrder: _on_order(lambda o, cmd, now: o.accept(cmd.actor, now)),
    c.DeclineOrder: _on_order(lambda o, cmd, now: o.decline(cmd.actor, cmd.reason, now)),
    c.SaveDraft: _on_order(lambda o, cmd, now: o.save_draft(cmd.actor, cmd.description, cmd.files, cmd.links,
                                                            cmd.kind, now, cmd.replace_all)),
    c.AddDraftFiles: _on_order(lambda o, cmd, now: o.add_draft_files(cmd.actor, cmd.files, now)),
    c.DeliverOrder: _on_order(lambda o, cmd, now: o.deliver(cmd.actor, cmd.description, cmd.files, cmd.links,
                                                            cmd.kind, cmd.confirm_no_file, now, cmd.from_draft)),
    c.RequestMoreTime: _on_order(lambda o, cmd, now: o.request_time(cmd.actor, cmd.extra, cmd.reason, now)),
    c.AnswerTimeRequest: _on_order(lambda o, cmd, now: o.answer_time(cmd.actor, cmd.approve, now)),
    c.ReportProblem: _on_order(lambda o, cmd, now: o.report_problem(cmd.actor, cmd.reason, now)),
    c.WithdrawProblem: _on_order(lambda o, cmd, now: o.withdraw_problem(cmd.actor, now)),
    c.AcceptDelivery: _on_order(lambda o, cmd, now: o.accept_delivery(cmd.actor, now)),
    c.RequestModification: _on_order(lambda o, cmd, now: o.request_modification(cmd.actor, cmd.message, now)),
    c.ExtendReview: _on_order(lambda o, cmd, now: o.extend_review(cmd.actor, cmd.extra, now)),
    c.SendFinalWork: _on_order(lambda o, cmd, now: o.send_final_work(cmd.actor, cmd.description, cmd.files,
                                                                     cmd.links, cmd.confirm_no_file, now,
                                                                     cmd.from_draft)),
    c.ConfirmAlreadySent: _on_order(lambda o, cmd, now: o.already_sent(cmd.actor, now)),
    c.LeaveReview: _on_order(lambda o, cmd, now: o.leave_review(cmd.actor, cmd.rating, cmd.text, now)),
    c.RespondToReview: _on_order(lambda o, cmd, now: o.respond_to_review(cmd.actor, cmd.text, now)),
    c.RequestCancellation: _on_order(lambda o, cmd, now: o.request_cancellation(cmd.actor, cmd.reason, now)),
    c.AnswerCancellation: _on_order(lambda o, cmd, now: o.answer_cancellation(cmd.actor, cmd.agree, now)),
    c.CancelLateOrder: _on_order(lambda o, cmd, now: o.cancel_late(cmd.actor, now)),
    c.Tip: _tip,
    c.PostMessage: _on_order(lambda o, cmd, now: o.post_message(cmd.actor, cmd.text, now)),
    c.Resolve: _on_order(lambda o, cmd, now: o.resolve(cmd.actor, cmd.resolution, now, cmd.extra, cmd.refund,
                                                       cmd.note)),
}
