"""The terminal shell, run as a person runs it: `gigroom shell --sandbox < script`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).with_name("scripts")


def gigroom(cwd: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("GIGROOM_", "SLACK_", "DISCORD_"))}
    environment.pop("DATABASE_URL", None)
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=cwd, input=stdin, text=True,
                          capture_output=True, env=environment, timeout=120)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "concept.png").write_bytes(b"\x89PNG concept " * 1000)
    (tmp_path / "final.zip").write_bytes(b"PK final work " * 5000)
    return tmp_path


def test_a_scripted_shell_session_runs_one_order_from_listing_to_withdrawal(workdir: Path) -> None:
    script = (SCRIPTS / "listing_to_withdrawal.gig").read_text()
    done = gigroom(workdir, "shell", "--sandbox", "--strict", stdin=script)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    for expected in ("Listing L", "paid into escrow", "Requirements in for order", "accepted: work has started",
                     "The non-disclosure agreement is in force", "sam: Starting on the sketches today.",
                     "Draft saved", "Delivery 1 of order", "asks for a modification", "Delivery 2 of order",
                     "54.00 USD released to the seller's pending balance (fee 6.00 USD)",
                     "is released to the buyer once the buyer leaves a review", "The final work is released",
                     "responded to the review", "Order O", "cleared: it is available for withdrawal",
                     "was paid out, reference bank transfer 1",
                     "pending 0.00 USD · available 0.00 USD · being withdrawn 0.00 USD · paid out 54.00 USD"):
        assert expected in out, f"missing {expected!r} in:\n{out}"
    received = sorted(p.name for p in (workdir / "received").iterdir())
    assert [name.split("-", 2)[2] for name in received] == ["concept.png", "concept.png", "final.zip"]
    assert (workdir / "invoice.pdf").read_bytes().startswith(b"%PDF")


def test_the_shell_reads_a_script_and_shows_refusals_without_stopping(workdir: Path) -> None:
    script = "as bea\naccept-delivery O1234567\nreview\nwhoami\n"
    done = gigroom(workdir, "shell", "--sandbox", stdin=script)
    assert done.returncode == 0
    assert "✗ There is no order O1234567 here." in done.stdout
    assert "✗ the following arguments are required: order, rating, text" in done.stdout
    assert "You are bea." in done.stdout


def test_strict_mode_stops_at_the_first_refusal_with_exit_code_1(workdir: Path) -> None:
    done = gigroom(workdir, "shell", "--sandbox", "--strict", stdin="as bea\nwithdraw 5\nwhoami\n")
    assert done.returncode == 1
    assert "✗ You have 0.00 USD available to withdraw" in done.stdout
    assert "You are bea." not in done.stdout


def test_gigroom_run_with_no_platform_opens_the_shell_on_a_sqlite_file(workdir: Path) -> None:
    done = gigroom(workdir, "run", stdin="whoami\n")
    assert done.returncode == 0, done.stderr
    assert "gigroom shell" in done.stdout and "You are admin (admin)." in done.stdout
    assert (workdir / "data" / "gigroom.db").exists()


def test_advancing_the_clock_is_refused_outside_the_sandbox(workdir: Path) -> None:
    done = gigroom(workdir, "shell", stdin="advance 5d\n")
    assert "✗ Only the sandbox shell (gigroom shell --sandbox) can move the clock." in done.stdout


def test_shell_amounts_are_plain_decimals_within_the_policy_maximum(workdir: Path) -> None:
    script = ("policy max_amount 100\npolicy\nas sam\nwithdraw 1,5\nwithdraw 1e9\nwithdraw inf\n"
              f"withdraw {10**30}\nwithdraw 100.01\nlisting Logo 1,500.00 3\n"
              "listing Logo 150 3\n")
    done = gigroom(workdir, "shell", "--sandbox", stdin=script)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "max_amount" in out and "100 USD" in out
    assert out.count("has a comma: write amounts with a point for decimals") == 2, out
    assert out.count("is not an amount: write it like 25 or 25.50") == 2, out
    assert "more than gigroom handles in one amount" in out
    assert "A withdrawal of 100.01 USD is more than this community's maximum of 100.00 USD" in out
    assert "A price of 150.00 USD is more than this community's maximum of 100.00 USD" in out


def test_a_buyer_adds_an_offer_s_extras_when_accepting_and_an_expired_offer_is_not_listed(workdir: Path) -> None:
    script = ("as sam\noffer bea Logo 70 3 --extra nda:NDA:10:nda --extra fast:Fast:20:days=-2\n"
              "offer bea Old 5 3\nas bea\noffers\n")
    out = gigroom(workdir, "shell", "--sandbox", stdin=script).stdout
    first = out.split("made a custom offer ", 1)[1].split(" ", 1)[0]
    assert "Extras the buyer may add when accepting: nda (NDA, +10.00 USD); fast (Fast, +20.00 USD)." in out
    assert f"extra fast: Fast · +20.00 USD (accept-offer {first} --extra fast)" in out
    then = f"as bea\naccept-offer {first} --extra gold\naccept-offer {first} --extra fast\nadvance 8d\noffers\n"
    done = gigroom(workdir, "shell", "--sandbox", stdin=then)  # the sandbox database in workdir is kept
    out = done.stdout
    assert "✗ No extra called gold" in out
    assert "paid into escrow" in out and "90.00 USD" in out, out
    assert out.rstrip().endswith("No open custom offers."), out


def test_a_seller_saves_a_draft_in_steps_and_views_it_and_no_text_wipes_nothing(workdir: Path) -> None:
    script = ("as sam\nlisting Logo 50 3\nas bea\norder @listing\nas sam\naccept @order\n"
              'draft @order "Half done" --file concept.png\ndraft @order\ndraft @order --link https://a.example\n'
              "draft @order --show\nas bea\ndraft @order --show\n")
    done = gigroom(workdir, "shell", "--sandbox", stdin=script)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    shown = out.split("sam> draft @order --show", 1)[1]
    assert "Half done" in shown and "file concept.png" in shown and "link https://a.example" in shown, out
    assert "Only the seller of order" in out
