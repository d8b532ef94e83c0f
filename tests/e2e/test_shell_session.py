"""The terminal shell, run as a person runs it: `gigroom shell --sandbox < script`."""

import os
import pty
import re
import select
import subprocess
import sys
import time
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


README = Path(__file__).parents[2] / "README.md"


def readme_session() -> str:
    """The README's example session: its one ```gig block, exactly as a reader would paste it."""
    blocks = re.findall(r"^```gig\n(.*?)^```", README.read_text(), re.S | re.M)
    assert len(blocks) == 1, "the README has one example session, in a ```gig block"
    return blocks[0]


def test_the_readmes_session_pasted_into_the_sandbox_runs_with_no_refusal(tmp_path: Path) -> None:
    done = gigroom(tmp_path, "shell", "--sandbox", "--strict", stdin=readme_session())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✗" not in done.stdout
    for expected in ("Requirements:", "What is your brand called? Acme Bakery", "→ accept O",
                     "The final work is released", "✉ to sam: The buyer tipped 5.00 USD",
                     "was paid out, reference bank transfer 1"):
        assert expected in done.stdout, f"missing {expected!r} in:\n{done.stdout}"
    assert (tmp_path / "data" / "try" / "invoice.pdf").read_bytes().startswith(b"%PDF")
    assert len(list((tmp_path / "data" / "try" / "received").iterdir())) == 2


def test_every_relative_link_in_the_readme_resolves_in_a_clone() -> None:
    text = README.read_text()
    headings = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
                for h in re.findall(r"^#+ (.+)$", text, re.M)}
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        if path:
            assert (README.parent / path).resolve().is_file(), f"README links to {target}, not in the repository"
            assert (README.parent / path).resolve().is_relative_to(README.parent), f"{target} leaves the repository"
        elif anchor:
            assert anchor in headings, f"README links to #{anchor}, which is no heading"


def test_a_failed_line_never_rebinds_at_order(workdir: Path) -> None:
    script = ('as sam\nlisting "Logo" 50 3\nas bea\norder @listing\nboard O0000000\nboard @order\n')
    done = gigroom(workdir, "shell", "--sandbox", stdin=script)
    assert "✗ There is no order O0000000 here." in done.stdout
    assert done.stdout.count("┌ Order O") == 1, done.stdout
    assert "no order O0000000" not in done.stdout.split("board @order", 1)[1]


def test_a_refusal_names_the_shell_flag_that_fixes_it(workdir: Path) -> None:
    script = ('as sam\nlisting "Logo" 50 3\nas bea\norder @listing\nas sam\naccept @order\n'
              'deliver @order "Concepts"\ndeliver @order "Concepts" --no-file\n')
    done = gigroom(workdir, "shell", "--sandbox", stdin=script)
    assert "✗ No file is attached: confirm with --no-file, or attach one with --file PATH." in done.stdout
    assert "Delivery 1 of order" in done.stdout


def test_the_board_lists_each_button_with_its_shell_command(workdir: Path) -> None:
    script = 'as sam\nlisting "Logo" 50 3 --deliveries 1\nas bea\norder @listing\nas sam\nboard @order\n'
    done = gigroom(workdir, "shell", "--sandbox", stdin=script)
    order_id = re.search(r"Order (O\w{7}) placed", done.stdout).group(1)  # type: ignore[union-attr]
    assert re.search(rf"│ \[Accept\] +→ accept {order_id}$", done.stdout, re.M), done.stdout
    assert re.search(rf"│ \[Decline\] +→ decline {order_id}", done.stdout, re.M)
    assert "1 delivery ·" in gigroom(workdir, "shell", "--sandbox", stdin="listings\n").stdout


def test_the_requester_of_a_cancellation_is_shown_how_to_withdraw_it(workdir: Path) -> None:
    script = ('as sam\nlisting "Logo" 50 3\nas bea\norder @listing\nas sam\naccept @order\n'
              'as bea\nask-cancel @order "Plans changed"\nboard @order\n')
    done = gigroom(workdir, "shell", "--sandbox", "--strict", stdin=script)
    assert done.returncode == 0, done.stdout
    assert re.search(r"\[Withdraw cancellation request\] +→ answer-cancel O\w{7} no", done.stdout), done.stdout


class Terminal:
    """The real shell in a pseudo-terminal, typed at as a person types."""

    def __init__(self, cwd: Path) -> None:
        self.master, slave = pty.openpty()
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("GIGROOM_", "SLACK_", "DISCORD_"))}
        environment.pop("DATABASE_URL", None)
        environment.update(TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", COLUMNS="120", LINES="40")
        self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "shell", "--sandbox"], cwd=cwd,
                                        stdin=slave, stdout=slave, stderr=slave, env=environment, close_fds=True)
        os.close(slave)
        self.seen = ""

    @property
    def plain(self) -> str:
        """What the terminal shows, without its escape sequences."""
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]", "", self.seen)

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def wait_for(self, text: str, times: int = 1, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.plain.count(text) < times:
            left = deadline - time.monotonic()
            assert left > 0, f"never saw {text!r}; the terminal shows:\n{self.plain[-2000:]}"
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                try:
                    self.seen += os.read(self.master, 65536).decode(errors="replace")
                except OSError:  # the shell ended
                    raise AssertionError(f"the shell ended before {text!r}:\n{self.plain[-2000:]}") from None

    def wait_for_prompt(self, prompt: str, timeout: float = 30) -> None:
        """Until the shell waits at its prompt (keys typed before that reach a terminal not yet in raw mode)."""
        deadline = time.monotonic() + timeout
        while not self.plain.rstrip().endswith(prompt):
            assert time.monotonic() < deadline, f"no prompt {prompt!r}:\n{self.plain[-2000:]}"
            self.wait_for(prompt, times=self.plain.count(prompt) + 1, timeout=deadline - time.monotonic())

    def ended(self, timeout: float = 30) -> int:
        """The shell's exit code, once it ends; what it shows meanwhile is read, so it never blocks writing."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            assert time.monotonic() < deadline, f"the shell did not end:\n{self.plain[-2000:]}"
            if select.select([self.master], [], [], 0.2)[0]:
                try:
                    self.seen += os.read(self.master, 65536).decode(errors="replace")
                except OSError:
                    break
        return self.process.wait(10)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        os.close(self.master)


def test_ctrl_c_cancels_the_line_not_the_shell_and_the_history_file_keeps_the_lines(tmp_path: Path) -> None:
    terminal = Terminal(tmp_path)
    try:
        terminal.wait_for_prompt("admin>")
        terminal.type("as bea\r")
        terminal.wait_for("You are now bea.")
        terminal.wait_for_prompt("bea>")
        mark = len(terminal.plain)
        terminal.type("accept-delivery O1234567")
        terminal.type("\x03")  # Ctrl-C: the line is dropped, the shell stays
        terminal.type("whoami\r")
        terminal.wait_for("You are bea.")
        assert "There is no order O1234567" not in terminal.plain[mark:], "the cancelled line must not run"
        assert terminal.process.poll() is None, "Ctrl-C must not end the shell"
        terminal.wait_for_prompt("bea>")
        terminal.type("\x1b[A\r")  # the up arrow brings back the last line from the history
        terminal.wait_for("You are bea.", times=2)
        terminal.wait_for_prompt("bea>")
        terminal.type("\x04")  # Ctrl-D leaves
        assert terminal.ended() == 0
    finally:
        terminal.close()
    history = (tmp_path / "data" / "sandbox" / "shell-history").read_text()
    assert "+as bea" in history and "+whoami" in history
    assert "accept-delivery" not in history


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
