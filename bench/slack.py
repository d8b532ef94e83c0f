"""A Slack button click to its ack: gigroom's Bolt app against a bare Bolt app, over HTTP on loopback.

Slack posts a click (a signed block_actions request) to /slack/events and waits at most 3 seconds for
the HTTP answer, the ack; gigroom acks first and works after. Measured: from sending the request to the
end of its response, with `time.perf_counter`, one aiohttp ClientSession with keep-alive per server.

(a) gigroom: a real `Gigroom` on a freshly migrated SQLite file (synchronous=FULL, the default), its
    Slack side built by `bot.slack.attach_slack` and served by `adapters.web.server.WebServer`, with
    `gig.start()` running (relay and timers) and the Web API pointed at `tests.slack.standin.SlackStandIn`
    in this process, so the work after each ack really runs: the click is the seller's "Accept" on a
    real order, freshly placed and awaiting acceptance; the listener accepts it through the engine and
    the relay shows it in Slack (a private channel for the order, its board, direct messages). Orders
    are made beforehand, through the engine, and their own updates are sent before any click is
    timed. The click carries the message the button was on, as Slack sends it: the seller's direct
    message "Your turn on order ...". Two ways:
      settled: each click is sent once the previous click's work is done (the order accepted and
               every event sent to Slack): the ack path of an idle bot. The ratio to the aim is this one.
      busy:    clicks back to back, each as soon as the previous ack arrives, so each ack competes with
               the work of the clicks before it (in this process: the engine, the relay, and the
               stand-in answering the Web API calls, which would run elsewhere in production: this errs
               against gigroom).
(b) bare: a slack_bolt AsyncApp with the same signing secret, the same token and client (auth.test on
    the stand-in, once) and process_before_response=False, with one `app.action(re.compile("^gr1:"))`
    listener that only acks, served the same way and sent the same requests (the same messages and
    buttons, fresh trigger ids, response URLs and signatures).
A diagnostic row runs the bare app with process_before_response=True: Bolt's AsyncApp, when the
listener runs after the response (False, as gigroom needs), checks for the ack every 10 ms
(slack_bolt/listener/asyncio_runner.py: `await asyncio.sleep(0.01)`), so both apps answer in 10 ms
plus their own cost; that row shows Bolt's cost without the wait.

Batches of the targets alternate, in an order that rotates each round, so a change in the machine's
load hits all alike; a warm-up round (first requests: auth.test, the community, caches) is excluded.

    python -m bench slack [--quick]
"""

import asyncio
import re
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import median, migrated_database, percentile, sqlite_url, verdict, write_result

AIM = 1.2  # gigroom's ack within 1.2x of the bare app's, at p50 and p99
TEAM, DOMAIN = "T0BENCH", "bench"
SELLER = "U0SELLER"
BUYERS = tuple(f"U0BUYER{i}" for i in range(4))
SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-standin"
SETTLE_TIMEOUT = 60.0  # seconds for a batch's work to be done before the run is called broken
JSON = dict[str, Any]


@dataclass(slots=True)
class Click:
    """A button on a message the seller got, as the stand-in holds it."""

    order_id: str
    channel: str
    message: JSON
    action_id: str
    value: str
    block_id: str
    label: str


@dataclass
class Target:
    key: str
    label: str
    url: str
    http: Any  # aiohttp.ClientSession
    acks: list[float] = field(default_factory=list)
    done: list[float] = field(default_factory=list)  # settled: from the click to its work done
    rounds: list[float] = field(default_factory=list)  # p50 of each batch
    calls: Counter[str] = field(default_factory=Counter)  # Web API calls made during its batches
    failed_calls: Counter[str] = field(default_factory=Counter)
    batch_seconds: float = 0.0  # wall time of its timed batches, settling included


class Market:
    """gigroom's side of the scene: a community, the seller's listing, orders made through the engine."""

    def __init__(self, gig: Any, slack: Any, path: Path) -> None:
        from core import commands as c
        from core.actor import Actor
        from core.terms import Service

        self.c, self.gig, self.slack = c, gig, slack
        community = gig.community("slack", TEAM, DOMAIN)  # what the middleware resolves on the first click
        self.seller = Actor(community.id, SELLER)
        self.buyers = [Actor(community.id, b) for b in BUYERS]
        service = Service(title="Logo design", description="Three logo concepts", price=5000, currency="USD",
                          delivery_days=3, deliveries=2, licence="Commercial use",
                          questions=("What is your brand called?",))
        self.listing_id = gig.engine.handle(c.CreateListing(actor=self.seller, service=service)).ref
        self.made = 0
        # a reader of gigroom's database file, to see when the work after the clicks is done
        self.reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)

    async def orders(self, count: int) -> list[Click]:
        """`count` new orders awaiting the seller's acceptance, their updates sent; the seller's Accept buttons."""
        c, handle = self.c, self.gig.engine.handle
        made = []
        for _ in range(count):
            buyer = self.buyers[self.made % len(self.buyers)]
            self.made += 1
            order_id = handle(c.PlaceOrder(actor=buyer, listing_id=self.listing_id)).ref
            handle(c.SubmitRequirements(actor=buyer, order_id=order_id, answers=("Acme Bakery",)))
            made.append(order_id)
        self.gig.relay.poke()
        await self.settle(made, "awaiting_acceptance")
        clicks = self._accept_buttons(made)
        self.slack.clear()
        return clicks

    def _accept_buttons(self, order_ids: list[str]) -> list[Click]:
        from core.buttons import Button
        from core.lifecycle import Action

        wanted = {Button(Action.ACCEPT_ORDER, order_id).encode(): order_id for order_id in order_ids}
        found: dict[str, Click] = {}
        for call in self.slack.calls_to("chat.postMessage"):
            message = call.response.get("message") or {}
            if not call.ok or call.params.get("channel") is None:
                continue
            for block in message.get("blocks", []):
                for element in block.get("elements", []) if block.get("type") == "actions" else []:
                    order_id = wanted.get(element.get("action_id", ""))
                    if order_id is not None:
                        found[order_id] = Click(order_id, call.response["channel"], message, element["action_id"],
                                                element.get("value", ""), block.get("block_id", "actions"),
                                                element["text"]["text"])
        missing = [order_id for order_id in order_ids if order_id not in found]
        if missing:
            raise RuntimeError(f"gigroom sent the seller no Accept button for orders {missing[:5]}")
        return [found[order_id] for order_id in order_ids]

    async def settle(self, order_ids: list[str], state: str = "in_progress") -> None:
        """Wait until every order is in `state` and the relay has sent every event (polled each millisecond)."""
        marks = ",".join("?" * len(order_ids))
        query = (f"SELECT (SELECT COUNT(*) FROM orders WHERE id IN ({marks}) AND state != ?), "
                 "(SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL)")
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            behind, unsent = self.reader.execute(query, (*order_ids, state)).fetchone()
            if not behind and not unsent:
                return
            if time.monotonic() > deadline:
                errors = self.reader.execute("SELECT type, error FROM outbox WHERE sent_at IS NULL LIMIT 3").fetchall()
                raise RuntimeError(f"gigroom did not settle in {SETTLE_TIMEOUT:.0f} s: {behind} orders not {state}, "
                                   f"{unsent} events unsent {errors}")
            await asyncio.sleep(0.001)


async def post_click(target: Target, click: Click, slack: Any) -> tuple[float, float]:
    """Send the seller's click on `click` to the target; when it was sent, and the seconds until its answer (the
    ack) arrived."""
    from tests.slack import payloads

    payload = payloads.block_actions(TEAM, SELLER, click.action_id, click.value, block_id=click.block_id,
                                     text=click.label, message=click.message, channel_id=click.channel, standin=slack)
    headers = payload.headers(SECRET)  # signed now: Bolt refuses a timestamp more than 5 minutes old
    clock = time.perf_counter
    start = clock()
    async with target.http.post(target.url, data=payload.body, headers=headers) as response:
        body = await response.read()
        took = clock() - start
        status = response.status
    if status != 200 or body.strip():
        raise RuntimeError(f"{target.label} answered {status} {body[:200]!r} to a click")
    return start, took


async def measure(quick: bool) -> dict[str, Any]:
    import aiohttp
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from adapters.web.server import SLACK_EVENTS, WebServer
    from bot.app import Gigroom
    from bot.settings import Settings
    from bot.slack import attach_slack
    from tests.slack.standin import SlackStandIn

    clicks, batch = (300, 25) if quick else (2_000, 50)
    rounds = clicks // batch
    slack = await SlackStandIn().start()
    slack.add_workspace(TEAM, name="Bench", domain=DOMAIN, bot_token=TOKEN,
                        users={SELLER: {"name": "sam"}, **{b: {"name": f"buyer{i}"} for i, b in enumerate(BUYERS)}})
    servers: list[Any] = []
    sessions: list[Any] = []
    gig = None
    with tempfile.TemporaryDirectory(prefix="gigroom-bench-slack-") as tmp:
        try:
            path = migrated_database(Path(tmp) / "gigroom.db")
            settings = Settings(database_url=sqlite_url(path), files_dir=Path(tmp) / "files", slack_bot_token=TOKEN,
                                slack_signing_secret=SECRET, slack_api_url=slack.base_url, web_port=0)
            gig = Gigroom(settings)
            side = attach_slack(gig, settings)
            await gig.start()
            market = Market(gig, slack, path)

            def bare_app(process_before_response: bool) -> Any:
                app = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=slack.base_url), signing_secret=SECRET,
                               process_before_response=process_before_response)

                @app.action(re.compile("^gr1:"))
                async def on_button(ack: Any) -> None:
                    await ack()

                return app

            async def serve(bolt: Any) -> str:
                server = WebServer("127.0.0.1", 0)
                server.add_slack(bolt)
                servers.append(server)
                return f"http://127.0.0.1:{await server.start()}{SLACK_EVENTS}"

            def session() -> Any:
                made = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1, keepalive_timeout=600))
                sessions.append(made)
                return made

            gig_url, gig_http = await serve(side.bolt), session()
            targets = [
                Target("gigroom", "gigroom, settled", gig_url, gig_http),
                Target("gigroom_busy", "gigroom, busy", gig_url, gig_http),
                Target("bare", "bare Bolt app", await serve(bare_app(False)), session()),
                Target("bare_pbr", "bare, process_before_response=True", await serve(bare_app(True)), session()),
            ]
            recent: list[Click] = []  # the last gigroom batch's buttons, which the bare apps are sent too

            async def settled(target: Target, count: int, record: bool) -> None:
                nonlocal recent
                recent = await market.orders(count)
                for click in recent:
                    sent, took = await post_click(target, click, slack)
                    await market.settle([click.order_id])
                    if record:
                        target.acks.append(took)
                        target.done.append(time.perf_counter() - sent)

            async def busy(target: Target, count: int, record: bool) -> None:
                nonlocal recent
                recent = await market.orders(count)
                took = [(await post_click(target, click, slack))[1] for click in recent]
                await market.settle([click.order_id for click in recent])
                if record:
                    target.acks.extend(took)

            async def bare(target: Target, count: int, record: bool) -> None:
                took = [(await post_click(target, recent[i % len(recent)], slack))[1] for i in range(count)]
                if record:
                    target.acks.extend(took)

            runs: dict[str, Callable[[Target, int, bool], Awaitable[None]]] = {
                "gigroom": settled, "gigroom_busy": busy, "bare": bare, "bare_pbr": bare}

            async def one_batch(target: Target, count: int, record: bool) -> None:
                slack.clear()
                if not record:
                    await runs[target.key](target, count, record)
                    return
                before = len(target.acks)
                started = time.perf_counter()
                await runs[target.key](target, count, record)
                target.batch_seconds += time.perf_counter() - started
                target.rounds.append(median(target.acks[before:]))
                calls = slack.calls
                target.calls.update(call.method for call in calls)
                target.failed_calls.update(f"{call.method}: {call.error}" for call in calls if not call.ok)
                slack.clear()

            print(f"   warm-up: {min(batch, 20)} clicks each", flush=True)
            for target in targets:
                await one_batch(target, min(batch, 20), record=False)
            for r in range(rounds):
                for target in targets[r % len(targets):] + targets[:r % len(targets)]:
                    await one_batch(target, batch, record=True)
            outcome = {"clicks": clicks, "batch": batch, "rounds": rounds, "orders_made": market.made,
                       "sqlite_synchronous": settings.sqlite_synchronous, "standin_errors": len(slack.errors),
                       "targets": {t.key: summarize(t) for t in targets}}
            market.reader.close()
            return outcome
        finally:
            for made in sessions:
                await made.close()
            for server in servers:
                await server.stop()
            if gig is not None:
                await gig.stop()
            await slack.stop()


def stats(values: list[float]) -> dict[str, float]:
    ms = [1000 * v for v in values]
    return {"n": len(ms), "p50_ms": percentile(ms, 50), "p90_ms": percentile(ms, 90), "p99_ms": percentile(ms, 99),
            "mean_ms": sum(ms) / len(ms), "min_ms": min(ms), "max_ms": max(ms)}


def summarize(target: Target) -> dict[str, Any]:
    row: dict[str, Any] = {"label": target.label, "ack": stats(target.acks),
                           "batch_p50_ms": [1000 * v for v in target.rounds], "batch_seconds": target.batch_seconds}
    if target.done:
        row["click_to_work_done"] = stats(target.done)
    if target.calls:
        row["web_api_calls_per_click"] = {m: n / len(target.acks) for m, n in sorted(target.calls.items())}
        row["web_api_failures"] = dict(target.failed_calls)
    return row


def run(quick: bool = False) -> dict[str, Any]:
    print(f"== slack: a button click to its ack over HTTP, gigroom's Bolt app vs a bare Bolt app "
          f"({'quick' if quick else 'full'} run)", flush=True)
    result: dict[str, Any] = {"name": "slack", "quick": quick, "aim_ratio": AIM, **asyncio.run(measure(quick))}
    rows = result["targets"]
    gig, busy, bare, pbr = rows["gigroom"]["ack"], rows["gigroom_busy"]["ack"], rows["bare"]["ack"], rows["bare_pbr"]["ack"]
    ratios = {key: {p: rows[key]["ack"][f"{p}_ms"] / bare[f"{p}_ms"] for p in ("p50", "p99")}
              for key in ("gigroom", "gigroom_busy")}
    result["ratios"] = ratios
    result["meets_aim"] = max(ratios["gigroom"].values()) <= AIM
    path = write_result("slack", result)
    _print(result)
    print(f"   results: {path}")
    worst = max(ratios["gigroom"].values())
    result["summary"] = [
        f"slack ack gigroom p50 {gig['p50_ms']:.1f} ms, p99 {gig['p99_ms']:.1f} ms = {ratios['gigroom']['p50']:.2f}x and "
        f"{ratios['gigroom']['p99']:.2f}x the bare Bolt app's {bare['p50_ms']:.1f} / {bare['p99_ms']:.1f} ms "
        f"(aim <= {AIM}x: {verdict(worst, AIM, higher_is_better=False)})",
        f"slack ack gigroom busy (clicks back to back) p50 {busy['p50_ms']:.1f} ms, p99 {busy['p99_ms']:.1f} ms = "
        f"{ratios['gigroom_busy']['p50']:.2f}x / {ratios['gigroom_busy']['p99']:.2f}x; Bolt's 10 ms ack poll: bare with "
        f"process_before_response=True p50 {pbr['p50_ms']:.1f} ms",
    ]
    return result


def _print(result: dict[str, Any]) -> None:
    rows, ratios = result["targets"], result["ratios"]
    print(f"-- {result['clicks']:,} timed clicks per target in {result['rounds']} alternating batches of "
          f"{result['batch']} (warm-up excluded); gigroom on SQLite synchronous={result['sqlite_synchronous']}, "
          f"{result['orders_made']:,} orders made")
    print(f"   {'target':<38}{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}{'mean ms':>9}{'max ms':>8}{'p50/bare':>10}{'p99/bare':>10}")
    bare = rows["bare"]["ack"]
    for row in rows.values():
        a = row["ack"]
        print(f"   {row['label']:<38}{a['p50_ms']:>8.2f}{a['p90_ms']:>8.2f}{a['p99_ms']:>8.2f}{a['mean_ms']:>9.2f}"
              f"{a['max_ms']:>8.2f}{a['p50_ms'] / bare['p50_ms']:>9.2f}x{a['p99_ms'] / bare['p99_ms']:>9.2f}x")
    worst = max(ratios["gigroom"].values())
    print(f"   gigroom (settled) / bare: p50 {ratios['gigroom']['p50']:.2f}x, p99 {ratios['gigroom']['p99']:.2f}x; "
          f"aim <= {AIM}x: {verdict(worst, AIM, higher_is_better=False)}")
    print(f"   gigroom - bare at p50: {rows['gigroom']['ack']['p50_ms'] - bare['p50_ms']:+.2f} ms (settled), "
          f"{rows['gigroom_busy']['ack']['p50_ms'] - bare['p50_ms']:+.2f} ms (busy); Bolt's wait for the ack: bare "
          f"process_before_response=False - True = {bare['p50_ms'] - rows['bare_pbr']['ack']['p50_ms']:.2f} ms at p50")
    done = rows["gigroom"]["click_to_work_done"]
    calls = rows["gigroom"]["web_api_calls_per_click"]
    print(f"   after the ack (settled): the click's work done (order accepted, its events shown in Slack) p50 "
          f"{done['p50_ms']:.1f} ms, p99 {done['p99_ms']:.1f} ms, polled each ms; Web API calls per click "
          f"{sum(calls.values()):.1f} ({', '.join(f'{m} {n:.1f}' for m, n in calls.items())})")
    failures = {k: v for row in rows.values() for k, v in row.get("web_api_failures", {}).items()}
    if failures or result["standin_errors"]:
        print(f"   Web API failures: {failures}; stand-in errors: {result['standin_errors']}")
    spread = ", ".join(f"{x:.1f}" for x in rows["gigroom"]["batch_p50_ms"])
    print(f"   gigroom (settled) p50 per batch, ms: {spread}")
