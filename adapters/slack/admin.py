"""`/gig admin ...`: the community admins' subcommands (policy, orders, problems, resolve, refund, payouts, export)."""

import asyncio
import io
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.export import export_ledger, export_orders
from adapters.slack import blocks as b
from adapters.slack.forms import Usage, request_key
from adapters.text import money, when
from core import commands as c
from core.actor import Actor
from core.durations import parse_duration
from core.errors import Refused
from core.money import parse_amount
from core.order_parts import Resolution
from core.words import plural

if TYPE_CHECKING:
    from adapters.slack.gig import GigCommands

HELP = """*Admin commands* (workspace admins and owners, and the admins gigroom is told of):
• `/gig admin policy`: this workspace's policy · `/gig admin policy SETTING VALUE`: change one setting
• `/gig admin orders [STATE]`: the newest orders · `/gig admin problems`: orders paused by a problem report
• `/gig admin resolve ORDER resume|extend|cancel|complete [--by 2d] [--refund 12.50] [NOTE]`
• `/gig admin refund ORDER [AMOUNT] [NOTE]`: cancel an order still in escrow, refunding in full or in part
• `/gig admin withdrawals`: payouts to make · `/gig admin pay WITHDRAWAL [REFERENCE]`: mark one paid
• `/gig admin export orders|ledger [csv|json]`: the records, as a file in your direct messages"""

LISTED = 40


class AdminCommands:
    def __init__(self, gig: "GigCommands") -> None:
        self.gig, self.runtime = gig, gig.runtime

    async def run(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                  respond: Any) -> None:
        name, rest = (args[0].lower(), args[1:]) if args else ("help", [])
        handler = getattr(self, f"cmd_{name}", None) if name.isalpha() else None
        if handler is None or name == "help":
            raise Usage("" if name == "help" else f"There is no `/gig admin {name}`.")
        await handler(actor, rest, body, client, respond)

    async def _say(self, respond: Any, title: str, lines: list[str], empty: str) -> None:
        text = f"*{title}*\n" + ("\n".join(lines[:LISTED]) or empty)
        if len(lines) > LISTED:
            text += f"\n…and {len(lines) - LISTED} more: `/gig admin export orders` has them all."
        await respond(text=text, blocks=[b.section(text)], response_type="ephemeral")

    async def cmd_policy(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                      respond: Any) -> None:
        if len(args) == 1:
            raise Usage(f"Give `{args[0]}` a value: `/gig admin policy {args[0]} VALUE`.")
        if args:
            await self.runtime.handle(c.SetPolicy(actor=actor, setting=args[0], value=" ".join(args[1:]),
                                                  key=request_key(body)))
        community = await asyncio.to_thread(self.runtime.queries.community, actor.community_id)
        assert community is not None
        lines = [f"`{k}`: {v}" for k, v in community.policy.describe().items()]
        await self._say(respond, "This workspace's policy", lines, "")

    async def cmd_orders(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                      respond: Any) -> None:
        state = args[0].lower() if args else None
        found = await asyncio.to_thread(self.runtime.queries.read_orders, actor, True, state)
        lines = [f"`{o.id}` {o.terms.title} · {o.state.label}{' (paused)' if o.problem else ''} · "
                 f"{money(o.terms.total, o.terms.currency)} · <@{o.buyer_id}> buys from <@{o.seller_id}>" for o in found]
        await self._say(respond, "Orders", lines, "None yet.")

    async def cmd_problems(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                        respond: Any) -> None:
        found = await asyncio.to_thread(self.runtime.queries.read_orders, actor, True, None, True)
        lines = [f"`{o.id}` {o.terms.title}: the {o.problem.by.value} reported {when(o.problem.at)}: "
                 f"{o.problem.reason} · `/gig admin resolve {o.id} resume|extend|cancel|complete`"
                 for o in found if o.problem]
        await self._say(respond, "Problem reports", lines, "None open.")

    async def cmd_resolve(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                       respond: Any) -> None:
        if len(args) < 2:
            raise Usage("Which order, and how? `/gig admin resolve ORDER resume|extend|cancel|complete`")
        order = await self.gig.listeners.order_for(actor, args[0])
        try:
            resolution = Resolution(args[1].lower())
        except ValueError:
            raise Usage(f"`{args[1]}` is not a resolution: resume, extend, cancel or complete.") from None
        options, note = _options(args[2:], ("--by", "--refund"))
        extra = parse_duration(options["--by"]) if "--by" in options else parse_duration("0m")
        refund = _refund(options.get("--refund"), order.terms.currency)
        await self.runtime.handle(c.Resolve(actor=actor, order_id=order.id, resolution=resolution, extra=extra,
                                            refund=refund, note=note, key=request_key(body)))
        await self._say(respond, f"Order {order.id}: {resolution.value} done", [], "The parties are told.")

    async def cmd_refund(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                      respond: Any) -> None:
        if not args:
            raise Usage("Which order? `/gig admin refund ORDER [AMOUNT] [NOTE]`")
        order = await self.gig.listeners.order_for(actor, args[0])
        amount = None
        rest = args[1:]
        if rest and rest[0][:1].isdigit():
            amount, rest = _refund(rest[0], order.terms.currency), rest[1:]
        note = " ".join(rest) or "Refunded by an admin."
        await self.runtime.handle(c.Resolve(actor=actor, order_id=order.id, resolution=Resolution.CANCEL,
                                            refund=amount, note=note, key=request_key(body)))
        what = "in full" if amount is None else money(amount, order.terms.currency)
        await self._say(respond, f"Order {order.id} cancelled, refunded {what}", [], "The parties are told.")

    async def cmd_withdrawals(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                           respond: Any) -> None:
        found = await asyncio.to_thread(self.runtime.queries.withdrawals, actor.community_id, "requested")
        lines = [f"`{w.id}` <@{w.seller_id}> {money(w.amount, w.currency)}, asked {when(w.requested_at)} · "
                 f"`/gig admin pay {w.id} REFERENCE`" for w in found]
        await self._say(respond, "Withdrawals to pay", lines, "None waiting.")

    async def cmd_pay(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                   respond: Any) -> None:
        if not args:
            raise Usage("Which withdrawal? `/gig admin pay WITHDRAWAL [REFERENCE]`")
        withdrawal = await asyncio.to_thread(self.runtime.queries.withdrawal, args[0].upper())
        if withdrawal is None or withdrawal.community_id != actor.community_id:
            raise Refused(f"There is no withdrawal {args[0]} here.")
        await self.runtime.handle(c.PayWithdrawal(actor=actor, withdrawal_id=withdrawal.id,
                                                  reference=" ".join(args[1:]), key=request_key(body)))
        await self._say(respond, f"Withdrawal {withdrawal.id} marked paid", [],
                        f"{money(withdrawal.amount, withdrawal.currency)} to <@{withdrawal.seller_id}>.")

    async def cmd_export(self, actor: Actor, args: list[str], body: dict[str, Any], client: AsyncWebClient,
                      respond: Any) -> None:
        table = args[0].lower() if args else ""
        fmt = args[1].lower() if len(args) > 1 else "csv"
        if table not in ("orders", "ledger") or fmt not in ("csv", "json"):
            raise Usage("`/gig admin export orders|ledger [csv|json]`")
        data, count = await asyncio.to_thread(self._export_text, actor, table, fmt)
        name = f"{table}-{actor.community_id.replace(':', '-')}.{'csv' if fmt == 'csv' else 'jsonl'}"
        dm = await client.conversations_open(users=actor.user_id)
        await client.files_upload_v2(channel=dm["channel"]["id"], content=data, filename=name,
                                     title=plural(count, f"{table} row"))
        await self._say(respond, f"{plural(count, f'{table} row')} exported", [], "The file is in your direct messages.")

    def _export_text(self, actor: Actor, table: str, fmt: str) -> tuple[bytes, int]:
        out = io.StringIO(newline="")
        queries = self.runtime.queries
        if table == "orders":
            count = export_orders(queries.all_orders(actor.community_id), fmt, out, lambda _: actor)
        else:
            count = export_ledger(queries.ledger_lines(actor.community_id), fmt, out)
        return out.getvalue().encode(), count


def _options(words: list[str], names: tuple[str, ...]) -> tuple[dict[str, str], str]:
    """`--name value` pairs among the words, and the rest joined as a note."""
    found: dict[str, str] = {}
    rest: list[str] = []
    items = iter(words)
    for word in items:
        if word.lower() in names:
            value = next(items, None)
            if value is None:
                raise Usage(f"`{word}` needs a value.")
            found[word.lower()] = value
        else:
            rest.append(word)
    return found, " ".join(rest)


def _refund(text: str | None, currency: str) -> int | None:
    if text is None:
        return None
    return parse_amount(text, currency) if text.strip().strip("0.") else 0  # "0": cancel with no refund
