"""The `gigroom` command: run the bot, open the shell, migrate, and operators' commands at the server."""

import asyncio
import logging
import signal
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from typer._click import exceptions as click  # typer vendors its own click: its exception classes
from typer.core import TyperGroup

from adapters.export import export_ledger, export_orders
from adapters.relay import letters, outbox_counts, retry
from adapters.shell.shell import Shell, stdin_lines
from adapters.text import board_lines, describe, money, when
from bot.app import Gigroom
from bot.settings import Settings
from core import commands as c
from core.actor import Actor
from core.durations import parse_duration
from core.errors import Refused
from core.lifecycle import OrderState
from core.money import parse_amount
from core.order import Order
from core.order_parts import Resolution
from core.views import board
from core.words import plural

OPERATOR = "operator"
USAGE, REFUSED = 2, 1  # exit codes: the command line or a setting is wrong / gigroom looked and said no
_opened: dict[str, str] = {}  # the database URL of this run, to name it when it fails


class OneLineErrors(TyperGroup):
    """Every command, including ones added later, ends in one line on stderr when something is wrong, never a
    traceback: usage errors and bad settings exit 2, refusals, missing files and database problems exit 1."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.NoArgsIsHelpError as shown:
            shown.show()
            code = shown.exit_code
        except click.UsageError as error:
            path = error.ctx.command_path if error.ctx else "gigroom"
            _line(f"{path}: {error.format_message()} (see `{path} -h`)")
            code = USAGE
        except click.ClickException as error:
            _line(error.format_message())
            code = error.exit_code
        except typer.Abort:
            _line("Aborted.")
            code = REFUSED
        except ValidationError as error:
            for problem in error.errors():
                name = Settings.env_name(str(problem["loc"][0])) if problem["loc"] else "a setting"
                _line(f"{name}={problem['input']!s} (environment or .env) is refused: "
                      f"{problem['msg'][0].lower()}{problem['msg'][1:]}. See .env.example.")
            code = USAGE
        except Refused as refusal:
            _line(refusal.reason)
            code = REFUSED
        except (DBAPIError, sqlite3.Error) as error:
            _line(_database_problem(error, _opened.get("url", "")))
            code = REFUSED
        except OSError as error:
            _line(f"{error.filename or 'gigroom'}: {error.strerror or error}.")
            code = REFUSED
        sys.exit(code if isinstance(code, int) else 0)


def _line(message: str) -> None:
    typer.secho(" ".join(message.replace("Value error, ", "").split()), fg=typer.colors.RED, err=True)


def _database_problem(error: Exception, url: str) -> str:
    """One line naming the database and what to do, from a driver's error."""
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0] if str(error).strip() else "failed"
    try:
        parsed = make_url(url)
    except Exception:
        return f"The database failed: {reason}. Check DATABASE_URL."
    if parsed.get_backend_name() != "sqlite":
        return (f"Cannot use the database at {parsed.render_as_string(hide_password=True)}: {reason}. "
                f"Check DATABASE_URL and that the database server is running.")
    path = Path(parsed.database or "")
    lowered = reason.lower()
    if "not a database" in lowered:
        return (f"{path} is not a gigroom database (it is damaged, or another kind of file): restore it from a backup "
                f"or set DATABASE_URL to another file.")
    if "readonly" in lowered or "read-only" in lowered:
        return (f"{path} is read-only: gigroom writes to the file and beside it, in {path.parent}; give the user "
                f"running gigroom write access to both.")
    if "unable to open" in lowered:
        return f"Cannot open {path}: check that {path.parent} exists and that gigroom may read and write it."
    return f"The database at {path} failed: {reason}."


app = typer.Typer(help="gigroom: a freelance marketplace's orders, run inside Slack, Discord or a terminal.",
                  no_args_is_help=True, add_completion=False, cls=OneLineErrors,
                  context_settings={"help_option_names": ["-h", "--help"]})


def _settings(sandbox: bool = False) -> Settings:
    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if sandbox:  # its own database, always: moving the clock must never touch real orders
        data = Path("data/sandbox")
        settings = settings.model_copy(update={"files_dir": data / "files",
                                               "database_url": f"sqlite:///{data / 'gigroom.db'}"})
    _opened["url"] = settings.database_url
    return settings


@contextmanager
def _gigroom(settings: Settings | None = None, create: bool = False) -> Iterator[Gigroom]:
    """The operator's commands use the database that `gigroom migrate` or `gigroom run` made; only those create it,
    so that a mistyped DATABASE_URL says so instead of reporting 0 orders from a new empty file."""
    settings = settings or _settings()
    if not create:
        _require_database(settings.database_url)
    gig = Gigroom(settings)
    gig.migrate()
    try:
        yield gig
    finally:
        gig.database.dispose()


def _require_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.is_file():
            _fail(f"There is no database at {path}: run `gigroom migrate` or `gigroom run` first "
                  f"(or set DATABASE_URL to the database gigroom runs on).")


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except Refused as refusal:
        raise typer.BadParameter(refusal.reason) from refusal


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
        history = Path(settings.files_dir).parent / "shell-history"
        return await terminal.run(stdin_lines(interactive, lambda: terminal.prompt, history), echo=not interactive)
    finally:
        await gig.stop()


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (gigroom also does this at every start)."""
    with _gigroom(create=True) as gig:
        typer.echo(f"The database at {gig.database.writer.url.render_as_string()} is up to date.")


orders_app = typer.Typer(help="Orders, for operators at the server.", no_args_is_help=True)
States = StrEnum("States", {s.value: s.value for s in OrderState})  # type: ignore[misc]  # choices for --state
app.add_typer(orders_app, name="orders")


@orders_app.command("list")
def orders_list(
    community: Annotated[str | None, typer.Option(help="a community id, such as slack:T0123")] = None,
    state: Annotated[States | None, typer.Option(help="only orders in this state")] = None,
    user: Annotated[str | None, typer.Option(help="only orders this user buys or sells")] = None,
    limit: Annotated[int, typer.Option(min=1, help="at most this many")] = 200,
) -> None:
    """List orders, newest first."""
    with _gigroom() as gig:
        found = [o for o in gig.queries.orders(community, user, state.value if state else None, limit=limit)
                 if o.readable(_operator(o))]
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
    by: Annotated[timedelta | None, typer.Option(parser=_duration, metavar="DURATION",
                                                 help="with extend: how long, such as 2d")] = None,
    refund: Annotated[str | None, typer.Option(help="with cancel: the refund; a full refund by default")] = None,
    note: Annotated[str, typer.Option(help="a note the parties see")] = "",
) -> None:
    """Resolve an order as an admin: resume, extend, cancel with a refund, or complete."""
    if outcome is Outcome.extend and by is None:
        raise typer.BadParameter("say how long, such as --by 2d", param_hint="'--by'")
    if refund is not None and not refund.strip():
        raise typer.BadParameter("an amount, such as 20 or 12.50", param_hint="the refund")
    with _gigroom() as gig:
        order = _order(gig, order_id)
        amount = None if refund is None else (0 if not refund.strip().strip("0.") else
                                              _amount(refund, order.terms.currency))
        extra = by or timedelta(0)
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


outbox_app = typer.Typer(help="Notifications still to be shown on Slack or Discord, and dead letters.",
                         invoke_without_command=True)
app.add_typer(outbox_app, name="outbox")


@outbox_app.callback()
def outbox(
    ctx: typer.Context,
    waiting: Annotated[bool, typer.Option("--waiting", help="list the events still waiting instead")] = False,
    limit: Annotated[int, typer.Option(min=1, help="at most this many")] = 50,
) -> None:
    """The dead letters (what a platform refused for good, such as a deleted channel), or the events still waiting."""
    if ctx.invoked_subcommand:
        return
    with _gigroom() as gig:
        pending, dead = outbox_counts(gig.database)
        for letter in letters(gig.database, dead=not waiting, limit=limit):
            tried = plural(letter.attempts, "attempt")
            typer.echo(f"{letter.id}  {letter.community_id}  {letter.order_id or '-'}  {letter.type}  "
                       f"{when(letter.created_at)}  {tried}  {letter.error or ''}".rstrip())
        typer.echo(f"{pending} waiting, {plural(dead, 'dead letter')}."
                   + (" Retry them with `gigroom outbox retry ID ...` or `--all`." if dead else ""))


@outbox_app.command("retry")
def outbox_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="dead letters' ids, from `gigroom outbox`")] = None,
    all_: Annotated[bool, typer.Option("--all", help="every dead letter")] = False,
) -> None:
    """Put dead letters back in the outbox: the running gigroom shows them within its relay interval."""
    if not ids and not all_:
        _fail("Name the dead letters to retry (their ids, from `gigroom outbox`), or give --all.")
    with _gigroom() as gig:
        if ids:
            known = {letter.id for letter in letters(gig.database, limit=1_000_000)}
            if unknown := [i for i in ids if i not in known]:
                _fail(f"Not a dead letter: {', '.join(map(str, unknown))} (see `gigroom outbox`).")
        done = retry(gig.database, gig.clock.now(), None if all_ else ids)
        typer.echo(f"{plural(done, 'dead letter')} back in the outbox.")


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
    if out is not None and not out.parent.is_dir():
        _fail(f"Cannot write {out}: there is no folder {out.parent}.")
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
