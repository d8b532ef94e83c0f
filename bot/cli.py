"""The `gigroom` command: run the bot, open the shell, migrate, and operators' commands at the server."""

import asyncio
import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from adapters.export import export_ledger, export_orders
from adapters.shell.shell import Shell, stdin_lines
from adapters.text import board_lines, describe, money, when
from bot.app import Gigroom
from bot.settings import Settings
from core import commands as c
from core.actor import Actor
from core.durations import parse_duration
from core.errors import Refused
from core.money import parse_amount
from core.order import Order
from core.order_parts import Resolution
from core.views import board

app = typer.Typer(help="gigroom: a freelance marketplace's orders, run inside Slack, Discord or a terminal.",
                  no_args_is_help=True, add_completion=False)
OPERATOR = "operator"


def _settings(sandbox: bool = False) -> Settings:
    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if sandbox:  # its own database, always: moving the clock must never touch real orders
        data = Path("data/sandbox")
        settings = settings.model_copy(update={"files_dir": data / "files",
                                               "database_url": f"sqlite:///{data / 'gigroom.db'}"})
    return settings


@contextmanager
def _gigroom(settings: Settings | None = None) -> Iterator[Gigroom]:
    gig = Gigroom(settings or _settings())
    gig.migrate()
    try:
        yield gig
    finally:
        gig.database.dispose()


def _fail(message: str, code: int = 1) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@app.command()
def run() -> None:
    """Start gigroom: on each configured platform, or the terminal shell when none is."""
    settings = _settings()
    if "discord" in settings.platforms:
        _fail("DISCORD_TOKEN is set, but this version of gigroom has no Discord adapter yet. Unset it.", 2)
    if "slack" in settings.platforms:
        problem = _slack_problem(settings)
        if problem:
            _fail(problem, 2)
        raise typer.Exit(asyncio.run(_serve(settings)))
    raise typer.Exit(asyncio.run(_shell(settings, None, sandbox=False, strict=False)))


def _slack_problem(settings: Settings) -> str:
    """What is missing from the Slack settings, or ''."""
    if settings.slack_bot_token is None and not settings.slack_client_secret:
        return "SLACK_CLIENT_ID is set: set SLACK_CLIENT_SECRET too (OAuth installs), or SLACK_BOT_TOKEN (one workspace)."
    if settings.slack_signing_secret is None and settings.slack_app_token is None:
        return "Set SLACK_SIGNING_SECRET (HTTP mode, requests at /slack/events) or SLACK_APP_TOKEN (Socket Mode)."
    if settings.slack_app_token is not None and not settings.slack_app_token.get_secret_value().startswith("xapp-"):
        return "SLACK_APP_TOKEN is an app-level token, starting with xapp-."
    return ""


async def _until_stopped() -> None:
    """Wait for Ctrl-C or SIGTERM (a service manager's stop), so that gigroom shuts down in order."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def _serve(settings: Settings) -> int:
    """Run on Slack until interrupted: Socket Mode with SLACK_APP_TOKEN, else HTTP at /slack/events."""
    from adapters.web.server import SLACK_EVENTS, WebServer
    from bot.slack import attach_slack

    gig = Gigroom(settings)
    gig.migrate()
    side = attach_slack(gig, settings)
    web = WebServer(settings.web_host, settings.web_port)
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
    public = settings.public_url.rstrip("/")
    try:
        await gig.start()
        await side.connect(web, app_token)
        web.add_uploads(gig.uploads, gig)
        port = await web.start()
        if app_token:
            typer.echo("gigroom is connected to Slack in Socket Mode.")
        else:
            typer.echo(f"gigroom listens for Slack at {public}{SLACK_EVENTS} (port {port}).")
        if side.oauth:
            typer.echo(f"A workspace admin installs gigroom at {public}/slack/install.")
        await _until_stopped()
        typer.echo("gigroom stops: it finishes what it is sending, then exits.")
        return 0
    finally:
        await side.close()
        await web.stop()
        await gig.stop()


@app.command()
def shell(
    user: Annotated[str | None, typer.Option("--as", help="who you are when the shell opens")] = None,
    sandbox: Annotated[bool, typer.Option(help="a separate database whose clock `advance` can move")] = False,
    strict: Annotated[bool, typer.Option(help="stop at the first refused command, exiting 1")] = False,
) -> None:
    """The terminal shell: play buyer, seller and admin. Reads a script from standard input too."""
    raise typer.Exit(asyncio.run(_shell(_settings(sandbox), user, sandbox, strict)))


async def _shell(settings: Settings, user: str | None, sandbox: bool, strict: bool) -> int:
    gig = Gigroom(settings, sandbox=sandbox)
    gig.migrate()
    admins = tuple(sorted({a.strip() for a in settings.shell_admins.split(",") if a.strip()}))
    community = gig.community("shell", settings.shell_community, settings.shell_community.title(), admins)
    terminal = Shell(gig, community.id, user or settings.shell_user, strict=strict)
    gig.add_sink(terminal)
    interactive = sys.stdin.isatty()
    if interactive:
        await gig.start()
    try:
        return await terminal.run(stdin_lines(interactive, lambda: terminal.prompt), echo=not interactive)
    finally:
        await gig.stop()


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (gigroom also does this at every start)."""
    with _gigroom() as gig:
        typer.echo(f"The database at {gig.database.writer.url.render_as_string()} is up to date.")


orders_app = typer.Typer(help="Orders, for operators at the server.", no_args_is_help=True)
app.add_typer(orders_app, name="orders")


@orders_app.command("list")
def orders_list(
    community: Annotated[str | None, typer.Option(help="a community id, such as slack:T0123")] = None,
    state: Annotated[str | None, typer.Option(help="only orders in this state, such as in_progress")] = None,
    user: Annotated[str | None, typer.Option(help="only orders this user buys or sells")] = None,
    limit: int = 200,
) -> None:
    """List orders, newest first."""
    with _gigroom() as gig:
        found = [o for o in gig.queries.orders(community, user, state, limit=limit) if o.readable(_operator(o))]
        for order in found:
            paused = " (paused)" if order.problem else ""
            typer.echo(f"{order.id}  {order.community_id}  {order.state.label}{paused}  "
                       f"{money(order.terms.total, order.terms.currency)}  {order.buyer_id} -> {order.seller_id}  "
                       f"{order.terms.title}")
        typer.echo(f"{len(found)} order(s).")


@orders_app.command("show")
def orders_show(order_id: str) -> None:
    """An order's board and its whole record."""
    with _gigroom() as gig:
        order = _order(gig, order_id)
        for line in board_lines(board(order, _operator(order), gig.clock.now())):
            typer.echo(line)
        for event in gig.queries.read_history(_operator(order), order.id):
            typer.echo(f"{when(event.at)}  {describe(event)}")


@app.command()
def problems() -> None:
    """Orders paused by a problem report, in every community."""
    with _gigroom() as gig:
        found = [o for o in gig.queries.orders(paused=True) if o.readable(_operator(o))]
        for order in found:
            assert order.problem
            typer.echo(f"{order.id}  {order.community_id}  {order.state.label}  reported by the "
                       f"{order.problem.by.value} {when(order.problem.at)}: {order.problem.reason}")
        typer.echo(f"{len(found)} open problem report(s).")


class Outcome(StrEnum):
    resume = "resume"
    extend = "extend"
    cancel = "cancel"
    complete = "complete"


@app.command()
def resolve(
    order_id: str,
    outcome: Outcome,
    by: Annotated[str, typer.Option(help="with extend: how long, such as 2d")] = "",
    refund: Annotated[str | None, typer.Option(help="with cancel: the refund; a full refund by default")] = None,
    note: Annotated[str, typer.Option(help="a note the parties see")] = "",
) -> None:
    """Resolve an order as an admin: resume, extend, cancel with a refund, or complete."""
    with _gigroom() as gig:
        order = _order(gig, order_id)
        amount = None if refund is None else (0 if not refund.strip().strip("0.") else
                                              _amount(refund, order.terms.currency))
        extra = parse_duration(by) if by else parse_duration("0m")
        _handle(gig, c.Resolve(actor=_operator(order), order_id=order.id, resolution=Resolution(outcome.value),
                               extra=extra, refund=amount, note=note))
        typer.echo(f"Order {order.id}: {outcome.value} done.")


@app.command("refund")
def refund_order(
    order_id: str,
    amount: Annotated[str | None, typer.Option(help="a partial refund; the rest goes to the seller")] = None,
    note: str = "Refunded by the operator.",
) -> None:
    """Cancel an order whose money is still in escrow, refunding the buyer in full or in part."""
    resolve(order_id, Outcome.cancel, refund=amount, note=note)


withdrawals_app = typer.Typer(help="Sellers' withdrawals.", no_args_is_help=True)
app.add_typer(withdrawals_app, name="withdrawals")


@withdrawals_app.command("list")
def withdrawals_list(all_: Annotated[bool, typer.Option("--all", help="paid ones too")] = False) -> None:
    """Withdrawals waiting to be paid out."""
    with _gigroom() as gig:
        found = gig.queries.withdrawals(state=None if all_ else "requested")
        for w in found:
            typer.echo(f"{w.id}  {w.community_id}  {w.state.value}  {money(w.amount, w.currency)}  to {w.seller_id}"
                       f"  asked {when(w.requested_at)}")
        typer.echo(f"{len(found)} withdrawal(s).")


@app.command()
def payout(withdrawal_id: str, reference: Annotated[str, typer.Option(help="the bank transfer's reference")] = "") -> None:
    """Mark a withdrawal as paid out."""
    with _gigroom() as gig:
        found = gig.queries.withdrawal(withdrawal_id.strip().upper())
        if found is None:
            _fail(f"There is no withdrawal {withdrawal_id}.")
            return
        actor = Actor(found.community_id, OPERATOR, is_admin=True)
        _handle(gig, c.PayWithdrawal(actor=actor, withdrawal_id=found.id, reference=reference))
        typer.echo(f"Withdrawal {found.id} marked paid.")


class Table(StrEnum):
    orders = "orders"
    ledger = "ledger"


class Format(StrEnum):
    csv = "csv"
    json = "json"


@app.command()
def export(
    table: Table,
    format: Annotated[Format, typer.Option("--format", help="csv, or json (one object per line)")] = Format.csv,
    out: Annotated[Path | None, typer.Option(help="a file to write; standard output by default")] = None,
    community: Annotated[str | None, typer.Option(help="one community only")] = None,
) -> None:
    """Export orders or the ledger as CSV or JSON lines."""
    with _gigroom() as gig:
        stream = out.open("w", newline="", encoding="utf-8") if out else sys.stdout
        try:
            if table is Table.orders:
                count = export_orders(gig.queries.all_orders(community), format.value, stream, _operator)
            else:
                count = export_ledger(gig.queries.ledger_lines(community), format.value, stream)
        finally:
            if out:
                stream.close()
        typer.echo(f"{count} {table.value} row(s) exported{f' to {out}' if out else ''}.", err=True)


def _order(gig: Gigroom, order_id: str) -> Order:
    order = gig.queries.order(order_id.strip().upper())
    if order is None:
        _fail(f"There is no order {order_id}.")
    assert order is not None
    order.check_read(_operator(order))  # the operator reads as an admin of every community: the one rule
    return order


def _operator(order: Order) -> Actor:
    """The operator at the server: an admin of every community, reading and acting through the core's rules."""
    return Actor(order.community_id, OPERATOR, is_admin=True)


def _amount(text: str, currency: str) -> int:
    try:
        return parse_amount(text, currency)
    except Refused as refusal:
        _fail(refusal.reason)
        raise


def _handle(gig: Gigroom, command: c.Command) -> None:
    try:
        gig.engine.handle(command)
    except Refused as refusal:
        _fail(refusal.reason)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
