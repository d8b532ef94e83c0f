"""Operators' commands at the server: the real `gigroom` typer app on a real database."""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from adapters.db.connect import Database
from bot.cli import app
from core import commands as c
from core.lifecycle import OrderState
from tests.market import Market


@pytest.fixture
def cli(sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", sqlite_db.url)
    monkeypatch.setenv("GIGROOM_FILES_DIR", str(tmp_path / "files"))
    return CliRunner()


def test_orders_list_and_show_give_every_order_and_its_record(cli: CliRunner, sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=OrderState.IN_PROGRESS)
    listed = cli.invoke(app, ["orders", "list", "--state", "in_progress"])
    assert listed.exit_code == 0, listed.output
    assert order_id in listed.output and "1 order(s)." in listed.output
    shown = cli.invoke(app, ["orders", "show", order_id.lower()])
    assert shown.exit_code == 0, shown.output
    assert f"Order {order_id}: Logo design" in shown.output and "accepted: work has started" in shown.output
    assert "Your forecast net earnings: 45.00 USD" in shown.output


def test_an_unknown_order_gets_a_clear_error_and_exit_code_1(cli: CliRunner, sqlite_market: Market) -> None:
    done = cli.invoke(app, ["orders", "show", "O0000000"])
    assert done.exit_code == 1 and "There is no order O0000000." in done.output


def test_an_operator_resolves_a_problem_by_extending_the_order(cli: CliRunner, sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=OrderState.IN_PROGRESS)
    due = m.get(order_id).due_at
    m.do(c.ReportProblem, m.buyer, order_id=order_id, reason="The seller went quiet")
    listed = cli.invoke(app, ["problems"])
    assert order_id in listed.output and "The seller went quiet" in listed.output
    done = cli.invoke(app, ["resolve", order_id, "extend", "--by", "2d", "--note", "Back on track"])
    assert done.exit_code == 0, done.output
    order = m.get(order_id)
    assert order.problem is None and due is not None and order.due_at is not None and order.due_at > due
    assert "0 open problem report(s)." in cli.invoke(app, ["problems"]).output


def test_an_operator_refunds_part_of_an_order_and_the_seller_gets_the_rest(cli: CliRunner, sqlite_market: Market) -> None:
    m = sqlite_market
    order_id = m.order(until=OrderState.DELIVERED)
    done = cli.invoke(app, ["refund", order_id, "--amount", "20"])
    assert done.exit_code == 0, done.output
    order = m.get(order_id)
    assert order.state is OrderState.CANCELLED and order.refunded == 2000 and order.to_seller == 2700
    again = cli.invoke(app, ["refund", order_id])
    assert again.exit_code == 1 and "already cancelled" in again.output


def test_a_refund_above_the_escrow_is_refused_and_changes_nothing(cli: CliRunner, sqlite_market: Market) -> None:
    order_id = sqlite_market.order(until=OrderState.IN_PROGRESS)
    done = cli.invoke(app, ["refund", order_id, "--amount", "500"])
    assert done.exit_code == 1 and "The refund is between 0 and 50.00 USD." in done.output
    assert sqlite_market.get(order_id).state is OrderState.IN_PROGRESS


def test_an_operator_pays_out_a_withdrawal_once(cli: CliRunner, sqlite_market: Market) -> None:
    m = sqlite_market
    m.do(c.SetPolicy, m.admin, setting="clearance", value="0m")
    m.order(until=OrderState.COMPLETED)
    m.fire()
    withdrawal = m.do(c.RequestWithdrawal, m.seller, amount=4500).ref
    assert withdrawal in cli.invoke(app, ["withdrawals", "list"]).output
    done = cli.invoke(app, ["payout", withdrawal, "--reference", "SEPA 42"])
    assert done.exit_code == 0, done.output
    assert m.balance("paid_out:sam") == 4500
    twice = cli.invoke(app, ["payout", withdrawal])
    assert twice.exit_code == 1 and "already marked paid" in twice.output


def test_exports_write_orders_and_the_ledger_as_csv_and_json(cli: CliRunner, sqlite_market: Market,
                                                             tmp_path: Path) -> None:
    order_id = sqlite_market.order(until=OrderState.COMPLETED)
    done = cli.invoke(app, ["export", "orders", "--format", "csv", "--out", str(tmp_path / "orders.csv")])
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "orders.csv").read_text())))
    assert [row["id"] for row in rows] == [order_id] and rows[0]["state"] == "completed"
    ledger = cli.invoke(app, ["export", "ledger", "--format", "json"])
    lines = [json.loads(line) for line in ledger.stdout.splitlines() if line.startswith("{")]
    assert lines and sum(line["amount_minor"] for line in lines) == 0


def test_gigroom_migrate_brings_a_new_database_up_to_date(cli: CliRunner, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'new' / 'fresh.db'}")
    done = cli.invoke(app, ["migrate"])
    assert done.exit_code == 0 and "is up to date" in done.output
    assert (tmp_path / "new" / "fresh.db").exists()


def test_run_with_a_discord_token_but_no_discord_adapter_says_so(cli: CliRunner,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "discord-test")
    done = cli.invoke(app, ["run"])
    assert done.exit_code == 2 and "no Discord adapter yet" in done.output


def test_run_on_slack_without_a_signing_secret_or_app_token_says_which_to_set(
        cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    done = cli.invoke(app, ["run"])
    assert done.exit_code == 2 and "SLACK_SIGNING_SECRET" in done.output


def _one_line(done: Any, code: int, *named: str) -> None:
    """The rule of items 12 and 13: a non-zero exit, one line on stderr naming what is wrong, no traceback."""
    assert done.exit_code == code, done.output
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert all(name in lines[0] for name in named), lines[0]
    assert "Traceback" not in done.output
    assert done.exception is None or isinstance(done.exception, SystemExit)


@pytest.mark.parametrize(("args", "named"), [
    (["resolve", "O0000000", "extend", "--by", "abc"], ["--by", "'abc' is not a duration"]),
    (["resolve", "O0000000", "extend"], ["--by"]),
    (["resolve", "O0000000", "bogus"], ["outcome", "'bogus'"]),
    (["orders", "list", "--state", "bogus"], ["--state", "'bogus'"]),
    (["orders", "list", "--limit", "-1"], ["--limit"]),
    (["orders", "list", "--limit", "many"], ["--limit"]),
    (["orders", "list", "--bogus"], ["--bogus"]),
    (["orders", "show"], ["order_id"]),
    (["export", "accounts"], ["'accounts'"]),
    (["export", "orders", "--format", "xml"], ["--format", "'xml'"]),
    (["refund", "O0000000", "--amount", " "], ["refund"]),
    (["payout"], ["withdrawal_id"]),
    (["bogus"], ["bogus"]),
])
def test_a_bad_command_line_is_one_line_naming_the_flag_and_exits_2(cli: CliRunner, sqlite_market: Market,
                                                                    args: list[str], named: list[str]) -> None:
    _one_line(cli.invoke(app, args), 2, *named)


@pytest.mark.parametrize(("args", "named"), [
    (["orders", "show", "O0000000"], ["There is no order O0000000."]),
    (["resolve", "O0000000", "resume"], ["There is no order O0000000."]),
    (["refund", "O0000000"], ["There is no order O0000000."]),
    (["payout", "W0000000"], ["There is no withdrawal W0000000."]),
    (["export", "orders", "--out", "/missing/dir/x.csv"], ["/missing/dir/x.csv", "no folder /missing/dir"]),
])
def test_a_refusal_is_one_line_and_exits_1(cli: CliRunner, sqlite_market: Market, args: list[str],
                                           named: list[str]) -> None:
    _one_line(cli.invoke(app, args), 1, *named)


@pytest.mark.parametrize("amount", ["abc", "-5", "1e9"])
def test_an_amount_the_core_refuses_is_one_line(cli: CliRunner, sqlite_market: Market, amount: str) -> None:
    order_id = sqlite_market.order(until=OrderState.IN_PROGRESS)
    _one_line(cli.invoke(app, ["refund", order_id, "--amount", amount]), 1)
    assert sqlite_market.get(order_id).state is OrderState.IN_PROGRESS


@pytest.mark.parametrize("args", [["-h"], ["orders", "-h"], ["orders", "list", "-h"], ["resolve", "-h"],
                                  ["export", "-h"], ["withdrawals", "list", "-h"]])
def test_every_command_takes_dash_h_for_help(cli: CliRunner, args: list[str]) -> None:
    done = cli.invoke(app, args)
    assert done.exit_code == 0 and "Usage:" in done.output


@pytest.mark.parametrize("args", [["orders", "list"], ["orders", "show", "O0000000"], ["problems"],
                                  ["withdrawals", "list"], ["export", "orders"], ["resolve", "O0000000", "resume"],
                                  ["payout", "W0000000"]])
def test_a_read_command_never_creates_a_missing_database(cli: CliRunner, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    missing = tmp_path / "typo" / "gigroom.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{missing}")
    _one_line(cli.invoke(app, args), 1, f"There is no database at {missing}", "gigroom migrate")
    assert not missing.exists() and not missing.parent.exists()


def test_a_corrupt_database_file_is_one_line_naming_it(cli: CliRunner, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.db"
    bad.write_text("this is not a database, it is a shopping list\n" * 100)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{bad}")
    _one_line(cli.invoke(app, ["problems"]), 1, str(bad), "not a gigroom database", "backup")


def test_an_unreachable_postgresql_is_one_line_hiding_the_password(cli: CliRunner,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://gig:s3cret@127.0.0.1:1/gigroom")
    done = cli.invoke(app, ["orders", "list"])
    _one_line(done, 1, "gig:***@127.0.0.1:1/gigroom", "DATABASE_URL")
    assert "s3cret" not in done.output


@pytest.mark.parametrize(("setting", "value"), [
    ("GIGROOM_WEB_PORT", "abc"), ("GIGROOM_WEB_PORT", "70000"), ("GIGROOM_WEB_PORT", "-1"),
    ("GIGROOM_SWEEP_INTERVAL", "-1"), ("GIGROOM_SWEEP_INTERVAL", "0"), ("GIGROOM_RELAY_INTERVAL", "-5"),
    ("GIGROOM_SQLITE_SYNCHRONOUS", "OFF"), ("GIGROOM_LOG_LEVEL", "LOUD"), ("GIGROOM_PUBLIC_URL", "localhost:8080"),
    ("SLACK_API_URL", "slack.com/api"), ("GIGROOM_SHELL_USER", ""),
])
def test_a_bad_setting_is_one_line_naming_it(cli: CliRunner, sqlite_market: Market, tmp_path: Path,
                                             setting: str, value: str) -> None:
    (tmp_path / ".env").write_text(f"{setting}={value}\n")  # the cli fixture runs in tmp_path, where .env is read
    _one_line(cli.invoke(app, ["orders", "list"]), 2, f"{setting}={value}", ".env")


def test_a_read_only_database_is_one_line_naming_it(tmp_path: Path, sqlite_db: Database,
                                                   sqlite_market: Market) -> None:
    """As the real `gigroom` program, run without root's right to write read-only files (root ignores chmod)."""
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        pytest.skip("root writes read-only files unless setpriv drops that capability")
    order_id = sqlite_market.order(until=OrderState.IN_PROGRESS)
    path = Path(make_url(sqlite_db.url).database or "")
    sqlite_db.dispose()
    os.chmod(path, 0o444)
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"] if os.geteuid() == 0 else []
    gigroom = Path(sys.executable).with_name("gigroom")
    done = subprocess.run([*drop, str(gigroom), "refund", order_id], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "DATABASE_URL": sqlite_db.url}, timeout=60)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert str(path) in lines[0] and "read-only" in lines[0]


@pytest.mark.parametrize(("amount", "said"), [("2,5", "has a comma"), ("1e1", "is not an amount"),
                                              (str(10**30), "more than gigroom handles in one amount")])
def test_a_refund_amount_is_a_plain_decimal_never_a_comma_read_as_thousands(cli: CliRunner, sqlite_market: Market,
                                                                            amount: str, said: str) -> None:
    order_id = sqlite_market.order(until=OrderState.IN_PROGRESS)
    done = cli.invoke(app, ["refund", order_id, "--amount", amount])
    assert done.exit_code == 1 and said in done.output, done.output
    assert sqlite_market.get(order_id).state is OrderState.IN_PROGRESS


async def test_an_operator_sees_the_dead_letters_and_retries_them(cli: CliRunner, sqlite_market: Market) -> None:
    from adapters.relay import OutboxRelay, Undeliverable
    from core.events import Event

    order_id = sqlite_market.order(until=OrderState.IN_PROGRESS)

    class DeletedRoom:
        platform = "shell"

        async def deliver(self, event: Event) -> None:
            if type(event).__name__ == "OrderAccepted":
                raise Undeliverable("channel_not_found")

    await OutboxRelay(sqlite_market.database, [DeletedRoom()], sqlite_market.clock.now, "one").run_once()
    listed = cli.invoke(app, ["outbox"])
    assert listed.exit_code == 0, listed.output
    [line] = [line for line in listed.output.splitlines() if "OrderAccepted" in line]
    assert order_id in line and "1 attempt" in line and "Undeliverable: channel_not_found" in line
    assert "0 waiting, 1 dead letter." in listed.output
    letter_id = line.split()[0]
    assert "0 waiting" in cli.invoke(app, ["outbox", "--waiting"]).output
    _one_line(cli.invoke(app, ["outbox", "retry"]), 1, "--all")
    _one_line(cli.invoke(app, ["outbox", "retry", "999"]), 1, "Not a dead letter: 999")
    done = cli.invoke(app, ["outbox", "retry", letter_id])
    assert done.exit_code == 0 and "1 dead letter back in the outbox." in done.output
    assert "1 waiting, 0 dead letters." in cli.invoke(app, ["outbox"]).output
    assert "0 dead letters back" in cli.invoke(app, ["outbox", "retry", "--all"]).output
