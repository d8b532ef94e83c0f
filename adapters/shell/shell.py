"""The terminal shell: play any party of an order, see its board and every update as text.

An adapter like Slack's and Discord's: it turns lines into the core's commands and shows the
core's events, through the same ports.
"""

import asyncio
import shutil
import sys
from argparse import Namespace
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from adapters.db.queries import Queries
from adapters.files.local import LocalFileStore
from adapters.shell.parser import PARSERS, REFERENCES, ShellError, parse
from adapters.terms_text import parse_extra
from adapters.text import board_lines, describe, money, when
from core import commands as c
from core.actor import Actor
from core.buttons import decode
from core.durations import parse_duration
from core.engine import Outcome, with_admin
from core.errors import Refused
from core.events import Event, OrderEvent
from core.lifecycle import RULE, Action, Role
from core.money import parse_amount
from core.order import Order
from core.order_parts import DeliveryKind, FileRef, Resolution
from core.ports import Clock, FileTooLarge
from core.terms import Extra, Service
from core.views import BoardButton, board, visible_deliveries
from core.words import plural

PLATFORM = "shell"


class Runtime(Protocol):
    clock: Clock
    queries: Queries
    files: LocalFileStore

    async def handle(self, command: c.Command) -> Outcome: ...

    async def settle(self) -> None:
        """Fire the timers that are due and show every pending update, now."""
        ...

    def advance(self, duration_text: str) -> str:
        """Sandbox only: move the clock forward; refuses otherwise."""
        ...

    def invoice(self, order: Order, viewer: str = "") -> bytes: ...


class Shell:
    platform = PLATFORM

    def __init__(self, runtime: Runtime, community_id: str, user: str, out: Callable[[str], None] = print,
                 strict: bool = False) -> None:
        self.runtime, self.community_id, self.user, self.out, self.strict = runtime, community_id, user, out, strict
        self.failures = 0
        self.refs: dict[str, str] = {}  # what @order, @listing, @offer and @withdrawal stand for

    # ---- the sink: order updates as they are sent ----------------------------------------------------
    async def deliver(self, event: Event) -> None:
        if event.community_id != self.community_id:
            return
        tag = f"[{event.order_id}] " if isinstance(event, OrderEvent) else ""
        self.out(f"📣 {tag}{describe(event)}")
        if isinstance(event, OrderEvent):
            for user_id in event.direct_ids:
                self.out(f"   ✉ to {user_id}: {describe(event)}")
            for owed in event.owed:
                self.out(f"   ✉ to {owed.user_id}: your turn on order {event.order_id}: {owed.what}.")

    # ---- the loop --------------------------------------------------------------------------------------
    @property
    def actor(self) -> Actor:
        return Actor(self.community_id, self.user)

    @property
    def prompt(self) -> str:
        return f"{self.user}> "

    async def run(self, lines: AsyncIterator[str], echo: bool) -> int:
        self.out("gigroom shell: type help for the commands, quit to leave.")
        await self.runtime.settle()
        async for line in lines:
            if echo and line.strip():
                self.out(f"{self.prompt}{line.rstrip()}")
            if not await self.execute(line):
                break
            if self.strict and self.failures:
                return 1
        return 1 if self.strict and self.failures else 0

    async def execute(self, line: str) -> bool:
        """Run one line; False when the shell should end."""
        try:
            parsed = parse(line, self.refs)
            if parsed is None:
                return True
            name, args = parsed
            if name == "quit":
                return False
            await getattr(self, "_" + name.replace("-", "_"))(args)
            for field in ("order", "listing", "offer", "withdrawal"):  # only a line that worked moves @order & co
                self._remember(getattr(args, field, None))
        except (Refused, ShellError) as refusal:
            self.failures += 1
            self.out(f"✗ {refused(refusal) if isinstance(refusal, Refused) else refusal}")
        await self.runtime.settle()
        return True

    async def _do(self, command: type[c.Command], **fields: object) -> Outcome:
        outcome = await self.runtime.handle(command(actor=self.actor, **fields))  # type: ignore[arg-type]
        self._remember(outcome.ref)
        return outcome

    def _remember(self, ref: str | None) -> None:
        if ref and ref[:1].upper() in REFERENCES and len(ref) == 8:
            self.refs[REFERENCES[ref[:1].upper()]] = ref.upper()

    # ---- who you are -----------------------------------------------------------------------------------
    async def _help(self, args: Namespace) -> None:
        if args.command:
            parser = PARSERS.get(args.command)
            if parser is None:
                raise ShellError(f"there is no command '{args.command}'")
            self.out(parser.format_help().strip())
            return
        width = max(map(len, PARSERS))
        for name, parser in PARSERS.items():
            self.out(f"  {name.ljust(width)}  {parser.description}")

    async def _as(self, args: Namespace) -> None:
        name = args.user.strip()
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise ShellError("a name is letters, digits, - and _")
        self.user = name
        self.out(f"You are now {self.user}{' (admin)' if self._admin().is_admin else ''}.")

    async def _whoami(self, args: Namespace) -> None:
        self.out(f"You are {self.user}{' (admin)' if self._admin().is_admin else ''}.")

    def _admin(self) -> Actor:
        community = self.runtime.queries.community(self.community_id)
        return with_admin(self.actor, community.policy) if community else self.actor

    def _need_admin(self) -> None:
        if not self._admin().is_admin:
            raise Refused("Only admins can do that.")

    def _currency(self, given: str | None) -> str:
        community = self.runtime.queries.community(self.community_id)
        return (given or (community.policy.currency if community else "USD")).upper()

    # ---- listings and offers -----------------------------------------------------------------------------
    def _service(self, args: Namespace, base: Service | None = None) -> Service:
        currency = self._currency(args.currency or (base.currency if base else None))
        extras = tuple(_extra(text, currency) for text in args.extra)
        fields = {"title": args.title, "description": args.description, "delivery_days": args.days,
                  "deliveries": args.deliveries, "licence": args.licence}
        given = {k: v for k, v in fields.items() if v is not None}
        if args.price is not None:
            given["price"] = parse_amount(args.price, currency)
        if extras:
            given["extras"] = extras
        if args.question:
            given["questions"] = tuple(args.question)
        return replace(base or Service("", "", 0, currency, 1), currency=currency, **given)

    async def _listing(self, args: Namespace) -> None:
        await self._do(c.CreateListing, service=self._service(args))

    async def _edit_listing(self, args: Namespace) -> None:
        listing = self.runtime.queries.listing(args.listing.upper())
        if listing is None or listing.community_id != self.community_id:
            raise Refused(f"There is no listing {args.listing} here.")
        active = False if args.pause else True if args.resume else None
        changed = any(getattr(args, k) not in (None, []) for k in
                      ("title", "price", "days", "description", "deliveries", "licence", "extra", "question"))
        service = self._service(args, listing.service) if changed else None
        await self._do(c.UpdateListing, listing_id=listing.id, service=service, active=active)

    async def _listings(self, args: Namespace) -> None:
        found = self.runtime.queries.listings(self.community_id, self.user if args.mine else None,
                                              active_only=not args.mine)
        if not found:
            self.out("No listings yet: a seller creates one with the listing command.")
        for item in found:
            s = item.service
            paused = "" if item.active else " (paused)"
            self.out(f"{item.id}  {s.title}{paused} · {money(s.price, s.currency)} · {s.delivery_days}d · "
                     f"{plural(s.deliveries, 'delivery', 'deliveries')} · by {item.seller_id}")
            for extra in s.extras:
                self.out(f"    extra {extra.code}: {extra.name} +{money(extra.price, s.currency)}")
            for question in s.questions:
                self.out(f"    asks: {question}")

    async def _offer(self, args: Namespace) -> None:
        await self._do(c.MakeOffer, buyer_id=args.buyer, service=self._service(args))

    async def _offers(self, args: Namespace) -> None:
        found = self.runtime.queries.offers(self.community_id, self.user, self.runtime.clock.now())
        if not found:
            self.out("No open custom offers.")
        for offer in found:
            s = offer.service
            self.out(f"{offer.id}  {s.title} · {money(s.price, s.currency)} · from {offer.seller_id} to "
                     f"{offer.buyer_id} · open until {when(offer.expires_at)}")
            for extra in s.extras:
                included = " (included)" if extra.code in offer.extras else f" (accept-offer {offer.id} --extra {extra.code})"
                self.out(f"    extra {extra.code}: {extra.name} · +{money(extra.price, s.currency)}{included}")

    async def _accept_offer(self, args: Namespace) -> None:
        await self._do(c.AnswerOffer, offer_id=args.offer, accept=True, extras=tuple(args.extra))

    async def _decline_offer(self, args: Namespace) -> None:
        await self._do(c.AnswerOffer, offer_id=args.offer, accept=False)

    async def _withdraw_offer(self, args: Namespace) -> None:
        await self._do(c.WithdrawOffer, offer_id=args.offer)

    # ---- orders --------------------------------------------------------------------------------------------
    async def _order(self, args: Namespace) -> None:
        await self._do(c.PlaceOrder, listing_id=args.listing, extras=tuple(args.extra))

    async def _orders(self, args: Namespace) -> None:
        if args.all:
            self._need_admin()
        found = self.runtime.queries.read_orders(self._admin(), everyone=args.all)
        if not found:
            self.out("No orders.")
        now = self.runtime.clock.now()
        for order in found:
            view = board(order, self.actor, now)
            role = "buyer" if order.buyer_id == self.user else "seller" if order.seller_id == self.user else "-"
            self.out(f"{order.id}  {view.status} · {order.terms.title} · you: {role} · {view.countdown or '-'}")

    def _find(self, order_id: str) -> Order:
        order = self.runtime.queries.order(order_id.strip().upper())
        if order is None or order.community_id != self.community_id:
            raise Refused(f"There is no order {order_id} here.")
        return order

    def _read(self, order_id: str) -> Order:
        """The order, when you may read it: the core's one rule for the board, history, invoice and files."""
        return self.runtime.queries.read_order(self._admin(), order_id)

    async def _board(self, args: Namespace) -> None:
        order = self._read(args.order)
        for line in board_lines(board(order, self._admin(), self.runtime.clock.now()), shell_command):
            self.out(line)

    async def _history(self, args: Namespace) -> None:
        for event in self.runtime.queries.read_history(self._admin(), args.order):
            self.out(f"{when(event.at)}  {describe(event)}")

    async def _requirements(self, args: Namespace) -> None:
        await self._do(c.SubmitRequirements, order_id=args.order, answers=tuple(args.answers))

    async def _accept(self, args: Namespace) -> None:
        await self._do(c.AcceptOrder, order_id=args.order)

    async def _decline(self, args: Namespace) -> None:
        await self._do(c.DeclineOrder, order_id=args.order, reason=args.reason)

    async def _files(self, order_id: str, paths: list[str]) -> tuple[FileRef, ...]:
        limit = self._find(order_id).policy.max_file_bytes
        refs = []
        for path in paths:
            try:
                refs.append(await self.runtime.files.put_path(Path(path).expanduser(), limit))
            except FileNotFoundError:
                raise Refused(f"There is no file at {path}.") from None
            except FileTooLarge as error:
                raise Refused(f"{path} is larger than {error.limit:,} bytes, the limit for one file: "
                              "share a link to it instead (--link).") from None
        return tuple(refs)

    async def _work(self, args: Namespace) -> dict[str, object]:
        return {"order_id": args.order, "description": args.description,
                "files": await self._files(args.order, args.file), "links": tuple(args.link)}

    async def _draft(self, args: Namespace) -> None:
        if args.show:
            self._show_draft(args.order)
            return
        kind = DeliveryKind.FINAL if args.final else DeliveryKind.PREVIEW
        await self._do(c.SaveDraft, kind=kind, **await self._work(args))

    def _show_draft(self, order_id: str) -> None:
        """The saved draft, to its seller only: it is the seller's unsent work."""
        order = self._find(order_id)
        if self.user != order.seller_id:
            raise ShellError(f"Only the seller of order {order.id} sees its draft.")
        draft = order.draft
        if draft is None:
            self.out(f"Order {order.id} has no saved draft.")
            return
        self.out(f"Draft of order {order.id} ({draft.kind.value}), saved {when(draft.at)}:")
        self.out(f"  {draft.description or '(no text)'}")
        for f in draft.files:
            self.out(f"  file {f.name} ({f.size} bytes)")
        for link in draft.links:
            self.out(f"  link {link}")

    async def _deliver(self, args: Namespace) -> None:
        kind = DeliveryKind.FINAL if args.final else None
        await self._do(c.DeliverOrder, kind=kind, confirm_no_file=args.no_file, from_draft=args.draft,
                       **await self._work(args))

    async def _more_time(self, args: Namespace) -> None:
        await self._do(c.RequestMoreTime, order_id=args.order, extra=parse_duration(args.duration),
                       reason=args.reason)

    async def _answer_time(self, args: Namespace) -> None:
        await self._do(c.AnswerTimeRequest, order_id=args.order, approve=args.answer == "yes")

    async def _problem(self, args: Namespace) -> None:
        await self._do(c.ReportProblem, order_id=args.order, reason=args.reason)

    async def _withdraw_problem(self, args: Namespace) -> None:
        await self._do(c.WithdrawProblem, order_id=args.order)

    async def _accept_delivery(self, args: Namespace) -> None:
        await self._do(c.AcceptDelivery, order_id=args.order)

    async def _modify(self, args: Namespace) -> None:
        await self._do(c.RequestModification, order_id=args.order, message=args.message)

    async def _extend_review(self, args: Namespace) -> None:
        await self._do(c.ExtendReview, order_id=args.order, extra=parse_duration(args.duration))

    async def _final_work(self, args: Namespace) -> None:
        await self._do(c.SendFinalWork, confirm_no_file=args.no_file, from_draft=args.draft,
                       **await self._work(args))

    async def _already_sent(self, args: Namespace) -> None:
        await self._do(c.ConfirmAlreadySent, order_id=args.order)

    async def _review(self, args: Namespace) -> None:
        await self._do(c.LeaveReview, order_id=args.order, rating=args.rating, text=args.text)

    async def _respond(self, args: Namespace) -> None:
        await self._do(c.RespondToReview, order_id=args.order, text=args.text)

    async def _ask_cancel(self, args: Namespace) -> None:
        await self._do(c.RequestCancellation, order_id=args.order, reason=args.reason)

    async def _answer_cancel(self, args: Namespace) -> None:
        await self._do(c.AnswerCancellation, order_id=args.order, agree=args.answer == "yes")

    async def _cancel(self, args: Namespace) -> None:
        await self._do(c.CancelOrder, order_id=args.order, reason=args.reason)

    async def _cancel_late(self, args: Namespace) -> None:
        await self._do(c.CancelLateOrder, order_id=args.order)

    async def _tip(self, args: Namespace) -> None:
        order = self._find(args.order)
        await self._do(c.Tip, order_id=order.id, amount=parse_amount(args.amount, order.terms.currency))

    async def _say(self, args: Namespace) -> None:
        await self._do(c.PostMessage, order_id=args.order, text=args.text)

    async def _invoice(self, args: Namespace) -> None:
        order = self._read(args.order)
        statement = self.user == order.seller_id
        path = Path(args.path or f"{'statement' if statement else 'invoice'}-{order.id}.pdf").expanduser()
        data = self.runtime.invoice(order, self.user)
        await asyncio.to_thread(path.write_bytes, data)
        what = "Settlement statement" if statement else "Sales invoice"
        self.out(f"{what} for order {order.id} saved to {path} ({len(data):,} bytes).")

    async def _download(self, args: Namespace) -> None:
        order = self._read(args.order)
        roles = order.roles(self._admin())
        folder = Path(args.folder).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        copied = 0
        for delivery in visible_deliveries(order, roles):
            for ref in delivery.files:
                target = folder / f"{order.id}-{delivery.number}-{ref.name}"
                await asyncio.to_thread(shutil.copyfile, self.runtime.files.path(ref), target)
                self.out(f"  {target} ({ref.size:,} bytes, sha256 {ref.sha256})")
                copied += 1
        if order.final_work and not order.final_work_released and not roles & {Role.SELLER, Role.ADMIN}:
            self.out("The final work is released once you leave a review and flame rating.")
        self.out(f"{plural(copied, 'file')} copied.")

    # ---- money ---------------------------------------------------------------------------------------------
    async def _balance(self, args: Namespace) -> None:
        found = self.runtime.queries.balances(self.community_id, self.user)
        if not found:
            self.out("No earnings yet.")
        for b in found:
            self.out(f"{b.currency}: pending {money(b.pending, b.currency)} · available {money(b.available, b.currency)}"
                     f" · being withdrawn {money(b.withdrawing, b.currency)} · paid out {money(b.paid_out, b.currency)}")

    async def _withdraw(self, args: Namespace) -> None:
        currency = self._currency(args.currency)
        await self._do(c.RequestWithdrawal, amount=parse_amount(args.amount, currency), currency=currency)

    # ---- admins ---------------------------------------------------------------------------------------------
    async def _policy(self, args: Namespace) -> None:
        if args.setting:
            if args.value is None:
                raise ShellError("give the setting's new value, such as: policy clearance 0m")
            await self._do(c.SetPolicy, setting=args.setting, value=args.value)
            return
        community = self.runtime.queries.community(self.community_id)
        assert community is not None
        for name, value in community.policy.describe().items():
            self.out(f"  {name} = {value}")

    async def _problems(self, args: Namespace) -> None:
        self._need_admin()
        found = self.runtime.queries.read_orders(self._admin(), everyone=True, paused=True)
        if not found:
            self.out("No open problem reports.")
        for order in found:
            assert order.problem
            self.out(f"{order.id}  {order.state.label} · reported by the {order.problem.by.value} "
                     f"{when(order.problem.at)}: {order.problem.reason}")

    async def _resolve(self, args: Namespace) -> None:
        order = self._find(args.order)
        refund = None if args.refund is None else _refund(args.refund, order.terms.currency)
        extra = parse_duration(args.by) if args.by else parse_duration("0m")
        await self._do(c.Resolve, order_id=order.id, resolution=Resolution(args.outcome), extra=extra,
                       refund=refund, note=args.note)

    async def _withdrawals(self, args: Namespace) -> None:
        self._need_admin()
        found = self.runtime.queries.withdrawals(self.community_id, None if args.all else "requested")
        if not found:
            self.out("No withdrawals waiting.")
        for w in found:
            self.out(f"{w.id}  {w.state.value} · {money(w.amount, w.currency)} to {w.seller_id} · asked "
                     f"{when(w.requested_at)}")

    async def _pay(self, args: Namespace) -> None:
        await self._do(c.PayWithdrawal, withdrawal_id=args.withdrawal, reference=args.reference)

    async def _advance(self, args: Namespace) -> None:
        self.out(self.runtime.advance(args.duration))

    async def _sample_file(self, args: Namespace) -> None:
        """A file to deliver when trying gigroom out, so a session can be pasted as it is; never overwrites one."""
        path = Path(args.path).expanduser()
        if path.exists():
            self.out(f"There is a file at {path} already: it is used as it is.")
            return
        if not 0 < args.bytes <= 100_000_000:
            raise ShellError("a sample file is from 1 byte to 100,000,000 bytes")
        line = f"gigroom sample file {path.name}\n".encode()
        data = (line * (args.bytes // len(line) + 1))[: args.bytes]
        try:
            await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread(path.write_bytes, data)
        except OSError as error:
            raise ShellError(f"can't write {path}: {error.strerror}") from None
        self.out(f"Wrote {path} ({len(data):,} bytes) to deliver.")


# How to take each of the board's buttons in the shell: the board lists them, one per line.
COMMANDS: dict[Action, str] = {
    Action.SUBMIT_REQUIREMENTS: 'requirements {order} "ANSWER" ... (one per question)',
    Action.CANCEL: 'cancel {order} ["REASON"]',
    Action.ACCEPT_ORDER: "accept {order}",
    Action.DECLINE_ORDER: 'decline {order} ["REASON"]',
    Action.DELIVER: 'deliver {order} "DESCRIPTION" --file PATH (or --link URL, or --no-file)',
    Action.REQUEST_TIME: 'more-time {order} 2d "REASON"',
    Action.ANSWER_TIME: "answer-time {order} yes|no",
    Action.REPORT_PROBLEM: 'problem {order} "WHAT IS WRONG"',
    Action.WITHDRAW_PROBLEM: "withdraw-problem {order}",
    Action.ACCEPT_DELIVERY: "accept-delivery {order}",
    Action.REQUEST_MODIFICATION: 'modify {order} "WHAT SHOULD CHANGE"',
    Action.EXTEND_REVIEW: "extend-review {order} 1d",
    Action.SEND_FINAL_WORK: 'final-work {order} "DESCRIPTION" --file PATH (or --link URL, or --no-file)',
    Action.ALREADY_SENT: "already-sent {order}",
    Action.LEAVE_REVIEW: 'review {order} 1-5 "YOUR REVIEW"',
    Action.RESPOND_TO_REVIEW: 'respond {order} "YOUR RESPONSE"',
    Action.REQUEST_CANCELLATION: 'ask-cancel {order} "REASON"',
    Action.ANSWER_CANCELLATION: "answer-cancel {order} yes|no",
    Action.CANCEL_LATE: "cancel-late {order}",
    Action.TIP: "tip {order} AMOUNT",
    Action.DOWNLOAD_INVOICE: "invoice {order} [PATH]",
}
WITHDRAW_OWN_REQUEST = "answer-cancel {order} no"

# How to fix a refusal in the shell, by the command field the core names: the flag, not the form's words.
FIXES: dict[str, str] = {
    "confirm_no_file": "confirm with --no-file, or attach one with --file PATH",
    "from_draft": "there is nothing for --draft to take: describe the delivery instead",
    "links": "share a link to it instead, with --link URL",
    "refund": "give a refund in that range with --refund AMOUNT, or none for a full refund",
    "extra": "give the length with --by, such as --by 2d",
    "deliveries": "set it with --deliveries N",
    "extras": "an extra is given with --extra",
}


def shell_command(button: BoardButton) -> str:
    """The shell line that takes a board's button."""
    order_id = decode(button.id).order_id
    rule = RULE[button.action]
    template = WITHDRAW_OWN_REQUEST if rule.requester_button and button.label == rule.requester_button \
        else COMMANDS[button.action]
    return template.format(order=order_id)


def refused(refusal: Refused) -> str:
    """A refusal as the shell says it: where the core names the field at fault, the shell names its flag."""
    fix = FIXES.get(refusal.field)
    return f"{refusal.what.rstrip('.')}: {fix}." if fix else refusal.reason


def _refund(text: str, currency: str) -> int:
    """A refund amount: zero is allowed here (the seller keeps everything)."""
    return 0 if text.strip().strip("0.") == "" else parse_amount(text, currency)


def _extra(text: str, currency: str) -> Extra:
    try:
        return parse_extra(text, currency)
    except ValueError as error:
        raise ShellError(str(error)) from None


async def stdin_lines(interactive: bool, prompt: Callable[[], str], history: Path | None = None) -> AsyncIterator[str]:
    """Lines from the terminal (with a prompt, line editing and `history`) or from a script on standard input."""
    if interactive and history is not None and sys.stdout.isatty():
        from adapters.shell.terminal import terminal_lines  # only a person at a terminal needs prompt_toolkit

        async for line in terminal_lines(prompt, history):
            yield line
        return
    while True:
        try:
            if interactive:
                line = await asyncio.to_thread(input, prompt())
            else:
                line = await asyncio.to_thread(sys.stdin.readline)
                if not line:
                    return
        except EOFError:
            return
        yield line

