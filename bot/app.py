"""The one place that wires gigroom together: database, engine, files, relay, timers, adapters."""

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import socket
from datetime import timedelta
from pathlib import Path

from adapters.clock import OffsetClock, SystemClock
from adapters.db.connect import Database, connect
from adapters.db.migrate import upgrade
from adapters.db.queries import Queries
from adapters.db.uow import SqlUnitOfWork
from adapters.files.local import LocalFileStore
from adapters.relay import OutboxRelay, Sink
from adapters.scheduler import TimerScheduler
from adapters.web.uploads import UploadLinks
from bot.settings import Settings
from core.commands import Command
from core.community import Community
from core.durations import format_duration, parse_duration
from core.engine import Engine, Outcome
from core.errors import Refused
from core.order import Order
from core.policy import Policy

log = logging.getLogger("gigroom")


def _secret_key(settings: Settings) -> bytes:
    """GIGROOM_SECRET_KEY, or a random key made once and kept in the data folder (readable by gigroom alone)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = Path(settings.files_dir).parent / "secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError), os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600),
                                                             "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


class Gigroom:
    """A running gigroom: commands go in through `handle`, events leave through the relay's sinks."""

    def __init__(self, settings: Settings, sandbox: bool = False, database: Database | None = None) -> None:
        """`database`, when given, is used instead of connecting to `settings.database_url` (instrumentation)."""
        self.settings = settings
        self.sandbox = OffsetClock() if sandbox else None
        self.clock = self.sandbox or SystemClock()
        self.database = database or connect(settings.database_url, settings.sqlite_synchronous)
        self.engine = Engine(lambda: SqlUnitOfWork(self.database, self.clock.now), self.clock)
        self.queries = Queries(self.database)
        self.files = LocalFileStore(Path(settings.files_dir))
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.relay = OutboxRelay(self.database, [], self.clock.now, self.name)
        self.timers = TimerScheduler(self.engine, self.queries.next_due, timedelta(seconds=settings.sweep_interval),
                                     on_fired=lambda _: self.relay.poke())
        self._tasks: list[asyncio.Task[None]] = []
        if self.sandbox:
            self._offset_file = Path(settings.files_dir).parent / "sandbox-clock"
            if self._offset_file.exists():
                self.sandbox.offset = parse_duration(self._offset_file.read_text().strip() or "0m")

    @functools.cached_property
    def uploads(self) -> UploadLinks:
        """Links to the upload page; the secret key is read (or made) only when a platform adapter needs them."""
        return UploadLinks(_secret_key(self.settings), self.settings.public_url, self.clock.now)

    def migrate(self) -> None:
        upgrade(self.database)

    def add_sink(self, sink: Sink) -> None:
        self.relay.sinks[sink.platform] = sink

    def community(self, platform: str, external_id: str, name: str, admins: tuple[str, ...] = ()) -> Community:
        return self.engine.ensure_community(platform, external_id, name, Policy(admins=admins))

    async def handle(self, command: Command) -> Outcome:
        outcome = await asyncio.to_thread(self.engine.handle, command)
        if outcome.events:
            self.relay.poke()
            await self.timers.poke()
        return outcome

    async def settle(self) -> None:
        await self.timers.sweep()
        await self.relay.run_once()

    def advance(self, duration_text: str) -> str:
        if self.sandbox is None:
            raise Refused("Only the sandbox shell (gigroom shell --sandbox) can move the clock.")
        self.sandbox.advance(parse_duration(duration_text))
        self._offset_file.write_text(format_duration(self.sandbox.offset))
        return f"The sandbox clock now reads {self.clock.now():%a %d %b %Y %H:%M} UTC."

    def invoice(self, order: Order, viewer: str = "") -> bytes:
        """The one document read: the seller gets the settlement statement, anyone else the sales invoice."""
        from adapters.files.invoice import render_invoice, render_statement  # fpdf2 is slow to import: when asked

        community = self.queries.community(order.community_id)
        render = render_statement if viewer == order.seller_id else render_invoice
        return render(order, community.name if community else order.community_id, self.clock.now())

    async def start(self) -> None:
        """Start the timers (firing whatever fell due while gigroom was down) and the relay."""
        await self.timers.start()
        self._tasks.append(asyncio.create_task(self.relay.run_forever(self.settings.relay_interval)))

    async def stop(self) -> None:
        await self.timers.stop()
        self.relay.stop()
        if self._tasks:
            _, running = await asyncio.wait(self._tasks, timeout=10)
            for task in running:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self.database.dispose()
