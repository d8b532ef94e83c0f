"""The shell's command language, parsed with argparse: one subparser per command."""

import argparse
import shlex
from typing import Any, NoReturn


class ShellError(Exception):
    """A line the shell can't run, with the reason and the usage to show."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ShellError(f"{message}\nusage: {self.format_usage().removeprefix('usage: ').strip()}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise ShellError(message or "")


def _service_options(p: argparse.ArgumentParser, required: bool) -> None:
    if required:
        p.add_argument("title")
        p.add_argument("price", help="such as 50 or 49.99")
        p.add_argument("days", type=int, help="delivery time in days")
    else:
        p.add_argument("--title")
        p.add_argument("--price")
        p.add_argument("--days", type=int)
    p.add_argument("--description", default=None)
    p.add_argument("--deliveries", type=int, default=None, help="deliveries (revisions) allowed")
    p.add_argument("--licence", default=None)
    p.add_argument("--currency", default=None)
    p.add_argument("--extra", action="append", default=[], metavar="CODE:NAME:PRICE[:days=-1][:deliveries=1][:nda]")
    p.add_argument("--question", action="append", default=[], help="a requirement question (repeat)")


def _work_options(p: argparse.ArgumentParser, final: bool) -> None:
    p.add_argument("order")
    p.add_argument("description", nargs="?", default="")
    p.add_argument("--file", action="append", default=[], help="a local file to deliver (repeat)")
    p.add_argument("--link", action="append", default=[], help="a link to the work (repeat)")
    p.add_argument("--no-file", action="store_true", help="confirm that no file is attached")
    p.add_argument("--draft", action="store_true", help="deliver the saved draft")
    if not final:
        p.add_argument("--final", action="store_true", help="this is the final work, not a preview")


def build() -> dict[str, argparse.ArgumentParser]:
    parsers: dict[str, argparse.ArgumentParser] = {}

    def cmd(name: str, summary: str) -> argparse.ArgumentParser:
        parser = _Parser(prog=name, description=summary, add_help=True)
        parsers[name] = parser
        return parser

    cmd("help", "list the commands, or explain one").add_argument("command", nargs="?")
    cmd("as", "become someone else: a buyer, a seller or an admin").add_argument("user")
    cmd("whoami", "who you are now")
    _service_options(cmd("listing", "create a listing"), required=True)
    p = cmd("edit-listing", "change, pause or resume a listing")
    p.add_argument("listing")
    _service_options(p, required=False)
    p.add_argument("--pause", action="store_true")
    p.add_argument("--resume", action="store_true")
    cmd("listings", "the community's listings").add_argument("--mine", action="store_true")
    p = cmd("offer", "make a custom offer to one buyer")
    p.add_argument("buyer")
    _service_options(p, required=True)
    cmd("offers", "your open custom offers")
    for name, summary in (("accept-offer", "accept a custom offer: places the order"),
                          ("decline-offer", "decline a custom offer"), ("withdraw-offer", "withdraw your offer")):
        p = cmd(name, summary)
        p.add_argument("offer")
        if name == "accept-offer":
            p.add_argument("--extra", action="append", default=[], metavar="CODE",
                           help="add one of the offer's extras (repeat for more)")
    p = cmd("order", "order a listing")
    p.add_argument("listing")
    p.add_argument("--extra", action="append", default=[], help="an extra's code (repeat)")
    cmd("orders", "your orders (admins: --all)").add_argument("--all", action="store_true")
    cmd("board", "an order's board").add_argument("order")
    cmd("history", "an order's record: every update and message").add_argument("order")
    p = cmd("requirements", "answer the requirement questions, in order")
    p.add_argument("order")
    p.add_argument("answers", nargs="*")
    cmd("accept", "accept an order (seller)").add_argument("order")
    p = cmd("decline", "decline an order (seller), no penalty")
    p.add_argument("order")
    p.add_argument("reason", nargs="?", default="")
    p = cmd("draft", "save a draft delivery to reopen later (merged with the saved one), or --show it")
    _work_options(p, final=False)
    p.add_argument("--show", action="store_true", help="show the saved draft, change nothing")
    _work_options(cmd("deliver", "deliver (or deliver modified work)"), final=False)
    p = cmd("more-time", "ask the buyer for more time")
    p.add_argument("order")
    p.add_argument("duration", help="such as 2d or 12h")
    p.add_argument("reason")
    p = cmd("answer-time", "answer a request for more time")
    p.add_argument("order")
    p.add_argument("answer", choices=["yes", "no"])
    p = cmd("problem", "report a problem: pauses the order for an admin")
    p.add_argument("order")
    p.add_argument("reason")
    cmd("withdraw-problem", "withdraw your problem report").add_argument("order")
    cmd("accept-delivery", "accept the delivery: releases the funds").add_argument("order")
    p = cmd("modify", "ask for a modification")
    p.add_argument("order")
    p.add_argument("message")
    p = cmd("extend-review", "add time to the review period")
    p.add_argument("order")
    p.add_argument("duration")
    _work_options(cmd("final-work", "send the final work"), final=True)
    cmd("already-sent", "confirm the final work was already sent in the chat").add_argument("order")
    p = cmd("review", "leave a review and flame rating (1-5)")
    p.add_argument("order")
    p.add_argument("rating", type=int)
    p.add_argument("text")
    p = cmd("respond", "respond to the review, once")
    p.add_argument("order")
    p.add_argument("text")
    p = cmd("ask-cancel", "ask the other side to cancel")
    p.add_argument("order")
    p.add_argument("reason")
    p = cmd("answer-cancel", "agree (yes) or refuse (no) to cancel; withdraws your own request")
    p.add_argument("order")
    p.add_argument("answer", choices=["yes", "no"])
    p = cmd("cancel", "cancel before the requirements are in (buyer or admin)")
    p.add_argument("order")
    p.add_argument("reason", nargs="?", default="")
    cmd("cancel-late", "cancel a late order alone, with a full refund (buyer)").add_argument("order")
    p = cmd("tip", "tip the seller after completion")
    p.add_argument("order")
    p.add_argument("amount")
    p = cmd("say", "write in the order's workspace chat")
    p.add_argument("order")
    p.add_argument("text")
    p = cmd("invoice", "save the order's PDF: the buyer's sales invoice, the seller's settlement statement")
    p.add_argument("order")
    p.add_argument("path", nargs="?")
    p = cmd("download", "copy an order's delivered files to a folder")
    p.add_argument("order")
    p.add_argument("folder", nargs="?", default=".")
    cmd("balance", "your earnings: pending, available, withdrawn")
    p = cmd("withdraw", "withdraw available earnings")
    p.add_argument("amount")
    p.add_argument("--currency")
    p = cmd("policy", "show the community's policy, or set one setting (admins)")
    p.add_argument("setting", nargs="?")
    p.add_argument("value", nargs="?")
    cmd("problems", "orders paused by a problem report (admins)")
    p = cmd("resolve", "resolve an order (admins)")
    p.add_argument("order")
    p.add_argument("outcome", choices=["resume", "extend", "cancel", "complete"])
    p.add_argument("--by", default="", help="how much to extend, such as 2d")
    p.add_argument("--refund", default=None, help="cancel with this refund; a full refund by default")
    p.add_argument("--note", default="")
    cmd("withdrawals", "withdrawals waiting to be paid (admins)").add_argument("--all", action="store_true")
    p = cmd("pay", "mark a withdrawal paid (admins)")
    p.add_argument("withdrawal")
    p.add_argument("reference", nargs="?", default="")
    cmd("advance", "sandbox only: move the clock forward").add_argument("duration")
    p = cmd("sample-file", "write a made-up file to try a delivery with (an existing file is left as it is)")
    p.add_argument("path")
    p.add_argument("--bytes", type=int, default=20_000, help="its size")
    cmd("quit", "leave the shell")
    return parsers


PARSERS = build()
ALIASES = {"exit": "quit", "?": "help", "me": "whoami"}


REFERENCES = {"O": "@order", "L": "@listing", "F": "@offer", "W": "@withdrawal"}


def parse(line: str, refs: dict[str, str] | None = None) -> tuple[str, Any] | None:
    """The command and its arguments, None for a blank line or a comment.

    `refs` fills in @order, @listing, @offer and @withdrawal: the last of each the shell saw.
    """
    try:
        words = shlex.split(line, comments=True)
    except ValueError as error:
        raise ShellError(f"can't read that line: {error}") from None
    if not words:
        return None
    refs = refs or {}
    for i, word in enumerate(words):
        if word in REFERENCES.values():
            if word not in refs:
                raise ShellError(f"there is no {word[1:]} yet for {word} to stand for")
            words[i] = refs[word]
    name = ALIASES.get(words[0].lower(), words[0].lower())
    parser = PARSERS.get(name)
    if parser is None:
        raise ShellError(f"there is no command '{words[0]}': type help for the list")
    return name, parser.parse_args(words[1:])
