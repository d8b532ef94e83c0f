"""Transitions per second through the real Engine on SQLite, against raw sqlite3 making the same writes.

Every command runs through `Engine.handle` (one transaction, one transition) on a SQLite file in WAL
mode with gigroom's own connection settings. The writer's sqlite3 connections are of a recording
subclass, which logs every SQL statement and its parameters exactly as the driver receives them,
grouped per commit. The same
stream is then replayed with the plain `sqlite3` module on a second copy of the freshly migrated
database, with the same PRAGMAs, BEGIN IMMEDIATE ... COMMIT per transaction: the same writes with
the same durability and nothing else, which is the limit gigroom can approach. The two runs
alternate in rounds, so a change in the machine's load hits both alike. At the end the database
files must hold identical rows, which proves the replay made exactly the same writes.

The workload: orders on one listing, each driven through ten commands (place, submit requirements,
accept, deliver, request a modification, deliver again, accept the delivery, confirm the final work
was already sent, review, answer the review). Warm-up orders are excluded. The recording runs inside
gigroom's timing (one list append per statement, a few percent of it), so the ratio errs against
gigroom. A diagnostic row replays the same statements through SQLAlchemy's Connection, to show what
SQLAlchemy's execution layer alone would cost: gigroom's unit of work runs on the driver's cursor
with statements compiled once (adapters/db/driver.py) for that reason.

    python -m bench engine [--quick]
"""

import hashlib
import sqlite3
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import copy_database, median, migrated_database, sqlite_url, verdict, write_result

AIM = 0.25  # gigroom should reach at least a quarter of the raw limit
BUSY_TIMEOUT_MS = 30_000  # adapters.db.connect's default, replayed as the same PRAGMA


@dataclass(slots=True)
class Transaction:
    label: str  # the command that made it
    statements: list[tuple[str, Any, bool]]  # (sql, parameters, executemany) as the driver got them
    end: str = "COMMIT"


class Recorder:
    """Every statement gigroom's writer sends to the sqlite3 driver, grouped per transaction.

    It is installed as the writer's sqlite3.Connection class (`connect(..., sqlite_factory=)`), so it sees
    exactly what the driver runs, whether SQLAlchemy or the unit of work sent it. While gigroom runs it
    only appends to a list (its cost falls inside gigroom's timing, so it is kept as small as it can be);
    `transactions` groups that log afterwards. A transaction starts at BEGIN IMMEDIATE and ends at the
    driver's commit() or rollback() or a COMMIT or ROLLBACK statement; statements outside one (the
    connection's PRAGMAs) are not part of the workload.
    """

    def __init__(self) -> None:
        self.log: list[tuple[Any, ...]] = []
        self._transactions: list[Transaction] = []
        self._current: list[tuple[str, Any, bool]] | None = None
        self._label = "setup"
        log = self.log
        execute, executemany = sqlite3.Cursor.execute, sqlite3.Cursor.executemany
        commit, rollback = sqlite3.Connection.commit, sqlite3.Connection.rollback

        class RecordingCursor(sqlite3.Cursor):
            def execute(self, sql: str, parameters: Any = (), /) -> Any:
                log.append((sql, parameters, False))
                return execute(self, sql, parameters)

            def executemany(self, sql: str, parameters: Any, /) -> Any:
                parameters = list(parameters)
                log.append((sql, parameters, True))
                return executemany(self, sql, parameters)

        class RecordingConnection(sqlite3.Connection):
            def cursor(self, factory: Any = RecordingCursor) -> Any:
                return super().cursor(factory)

            def execute(self, sql: str, parameters: Any = (), /) -> Any:
                return self.cursor().execute(sql, parameters)

            def commit(self) -> None:
                commit(self)
                log.append(("COMMIT",))

            def rollback(self) -> None:
                rollback(self)
                log.append(("ROLLBACK",))

        self.factory = RecordingConnection

    @property
    def label(self) -> str:
        return self._label

    @label.setter
    def label(self, name: str) -> None:
        self.log.append(("LABEL", name))

    @property
    def transactions(self) -> list[Transaction]:
        """The transactions recorded so far."""
        for entry in self.log:
            if entry[0] == "LABEL":
                self._label = entry[1]
                continue
            sql = entry[0]
            if sql in ("COMMIT", "ROLLBACK"):
                if self._current:
                    self._transactions.append(Transaction(self._label, self._current, sql))
                self._current = None
                continue
            if sql == "BEGIN IMMEDIATE":
                self._current = []
            if self._current is not None:
                parameters, many = entry[1], entry[2]
                self._current.append((sql, [tuple(p) for p in parameters] if many else tuple(parameters), many))
        self.log.clear()
        return self._transactions


def raw_connection(path: Path, synchronous: str) -> sqlite3.Connection:
    """A plain sqlite3 connection set up exactly as adapters.db.connect sets up gigroom's."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def replay(conn: sqlite3.Connection, transactions: list[Transaction]) -> list[float]:
    """Run the recorded transactions with plain sqlite3; the seconds each one took."""
    cursor = conn.cursor()
    took = []
    clock = time.perf_counter
    for txn in transactions:
        start = clock()
        for sql, params, many in txn.statements:
            if many:
                cursor.executemany(sql, params)
            else:
                cursor.execute(sql, params)
            if cursor.description is not None:
                cursor.fetchall()
        cursor.execute(txn.end)
        took.append(clock() - start)
    return took


def sqlalchemy_replay(database: Any, transactions: list[Transaction]) -> float:
    """The same statements through SQLAlchemy's Connection (exec_driver_sql), with gigroom's engine settings.

    A diagnostic, between gigroom and the limit: it has SQLAlchemy's connection pool, events and result
    handling (BEGIN IMMEDIATE comes from the begin event as in gigroom), but no ORM Session and no statement
    building. Seconds taken.
    """
    clock = time.perf_counter
    start = clock()
    for txn in transactions:
        with database.writer.connect() as conn:
            conn.begin()
            for sql, params, many in txn.statements[1:]:  # [0] is BEGIN IMMEDIATE, which begin() emits
                result = conn.exec_driver_sql(sql, list(params) if many else params)
                if result.returns_rows:
                    result.fetchall()
            if txn.end == "COMMIT":
                conn.commit()
            else:
                conn.rollback()
    return clock() - start


def table_digest(path: Path) -> dict[str, str]:
    """A digest of every table's rows, to check that two databases hold the same data."""
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        digests = {}
        for name in names:
            h = hashlib.sha256()
            for row in conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid'):
                h.update(repr(row).encode())
            digests[name] = h.hexdigest()
        return digests
    finally:
        conn.close()


class Workload:
    """A community with a seller and buyers, and orders driven through a whole lifecycle."""

    def __init__(self, engine: Any) -> None:
        from core import commands as c
        from core.actor import Actor
        from core.order_parts import DeliveryKind, FileRef
        from core.terms import Service

        self.c, self.engine = c, engine
        community = engine.ensure_community("shell", "bench", "Bench")
        cid = community.id
        self.seller = Actor(cid, "sam")
        self.buyers = [Actor(cid, f"buyer{i}") for i in range(20)]
        self.file = FileRef("logo.png", 2048, "ab" * 32, "ab" * 32)
        self.kind = DeliveryKind.PREVIEW
        service = Service(title="Logo design", description="Three logo concepts", price=5000, currency="USD",
                          delivery_days=3, deliveries=2, licence="Commercial use",
                          questions=("What is your brand called?",))
        self.listing_id = engine.handle(c.CreateListing(actor=self.seller, service=service)).ref
        self.made = 0

    def cycle(self) -> Iterator[Any]:
        """One order from placing to the seller's answer to the review: ten commands, ten transitions."""
        c, seller = self.c, self.seller
        buyer = self.buyers[self.made % len(self.buyers)]
        self.made += 1
        placed = yield c.PlaceOrder(actor=buyer, listing_id=self.listing_id)
        order_id = placed.ref
        yield c.SubmitRequirements(actor=buyer, order_id=order_id, answers=("Acme Bakery",))
        yield c.AcceptOrder(actor=seller, order_id=order_id)
        yield c.DeliverOrder(actor=seller, order_id=order_id, description="First concepts", files=(self.file,),
                             kind=self.kind)
        yield c.RequestModification(actor=buyer, order_id=order_id, message="Make the letters bigger, please")
        yield c.DeliverOrder(actor=seller, order_id=order_id, description="Bigger letters", files=(self.file,),
                             kind=self.kind)
        yield c.AcceptDelivery(actor=buyer, order_id=order_id)
        yield c.ConfirmAlreadySent(actor=seller, order_id=order_id)
        yield c.LeaveReview(actor=buyer, order_id=order_id, rating=5, text="Lovely work")
        yield c.RespondToReview(actor=seller, order_id=order_id, text="Thank you!")


def run_cycles(workload: Workload, recorder: Recorder, cycles: int, timings: dict[str, list[float]]) -> float:
    """Drive `cycles` orders through the engine; the seconds spent inside Engine.handle."""
    handle, clock = workload.engine.handle, time.perf_counter
    spent = 0.0
    for _ in range(cycles):
        steps = workload.cycle()
        command = next(steps)
        while True:
            name = type(command).__name__
            recorder.label = name
            before = len(recorder.transactions)
            start = clock()
            outcome = handle(command)
            took = clock() - start
            spent += took
            timings[name].append(took)
            if len(recorder.transactions) != before + 1:
                raise RuntimeError(f"{name} made {len(recorder.transactions) - before} transactions, not 1")
            try:
                command = steps.send(outcome)
            except StopIteration:
                break
    return spent


def run_mode(synchronous: str, budget: float, rounds: int, warmup: int, workdir: Path) -> dict[str, Any]:
    from adapters.clock import SystemClock
    from adapters.db.connect import connect
    from adapters.db.uow import SqlUnitOfWork
    from core.engine import Engine

    template = migrated_database(workdir / f"template-{synchronous}.db")
    gig_path = copy_database(template, workdir / f"gigroom-{synchronous}.db")
    raw_path = copy_database(template, workdir / f"raw-{synchronous}.db")
    sa_path = copy_database(template, workdir / f"sqlalchemy-{synchronous}.db")

    recorder = Recorder()
    database = connect(sqlite_url(gig_path), synchronous, sqlite_factory=recorder.factory)
    clock = SystemClock()
    engine = Engine(lambda: SqlUnitOfWork(database, clock.now), clock)
    raw = raw_connection(raw_path, synchronous)
    sa_database = connect(sqlite_url(sa_path), synchronous)

    workload = Workload(engine)  # the community and the listing: setup
    timings: dict[str, list[float]] = defaultdict(list)
    run_cycles(workload, recorder, warmup, defaultdict(list))  # warm-up: caches, statement caches, pages
    replay(raw, recorder.transactions)
    sqlalchemy_replay(sa_database, recorder.transactions)
    replayed = len(recorder.transactions)

    gig_seconds, raw_seconds, sa_seconds = 0.0, 0.0, 0.0
    measured: list[Transaction] = []
    per_round: list[float] = []
    raw_by_label: dict[str, list[float]] = defaultdict(list)

    def measure(cycles: int) -> float:
        """Drive `cycles` orders through gigroom, then replay their transactions raw; gigroom/raw rate."""
        nonlocal gig_seconds, raw_seconds, sa_seconds, replayed
        spent = run_cycles(workload, recorder, cycles, timings)
        batch = recorder.transactions[replayed:]
        replayed = len(recorder.transactions)
        took = replay(raw, batch)
        sa_seconds += sqlalchemy_replay(sa_database, batch)
        gig_seconds, raw_seconds = gig_seconds + spent, raw_seconds + sum(took)
        for txn, seconds in zip(batch, took, strict=True):
            raw_by_label[txn.label].append(seconds)
        measured.extend(batch)
        return sum(took) / spent

    # a first timed round of two orders sizes the others, so the run keeps to its budget on a busy machine
    per_round.append(measure(2))
    cycles_per_round = max(2, int(budget / rounds / (gig_seconds / 2)))
    for _ in range(rounds):
        per_round.append(measure(cycles_per_round))
    database.dispose()
    sa_database.dispose()
    raw.close()

    same = table_digest(gig_path) == table_digest(raw_path) == table_digest(sa_path)
    transitions = len(measured)
    statements = sum(len(t.statements) - 1 for t in measured)  # SQL statements, not counting BEGIN IMMEDIATE
    rolled_back = sum(1 for t in measured if t.end != "COMMIT")
    gig_rate, raw_txn_rate = transitions / gig_seconds, transitions / raw_seconds
    per_command = {
        name: {"gigroom_ms": 1000 * sum(times) / len(times),
               "raw_ms": 1000 * sum(raw_by_label[name]) / len(raw_by_label[name]),
               "statements": sum(len(t.statements) - 1 for t in measured if t.label == name)
               / max(1, sum(1 for t in measured if t.label == name))}
        for name, times in timings.items()
    }
    return {
        "synchronous": synchronous,
        "transitions": transitions,
        "orders": transitions // 10,
        "rounds": rounds,
        "gigroom_seconds": gig_seconds,
        "gigroom_transitions_per_s": gig_rate,
        "raw_seconds": raw_seconds,
        "raw_transactions_per_s": raw_txn_rate,
        "raw_statements_per_s": statements / raw_seconds,
        "statements_per_transaction": statements / transitions,
        "rolled_back_transactions": rolled_back,
        "ratio": gig_rate / raw_txn_rate,
        "sqlalchemy_connection_seconds": sa_seconds,
        "sqlalchemy_connection_transactions_per_s": transitions / sa_seconds,
        "ratio_per_round": per_round,
        "ratio_round_median": median(per_round),
        "replay_identical": same,
        "per_command": per_command,
    }


def run(quick: bool = False) -> dict[str, Any]:
    budget, rounds, warmup = (3.0, 3, 2) if quick else (15.0, 8, 5)
    print(f"== engine: transitions/s through Engine.handle vs raw sqlite3 replaying the same statements "
          f"({'quick' if quick else 'full'} run)", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="gigroom-bench-engine-") as tmp:
        for synchronous in ("FULL", "NORMAL"):
            row = run_mode(synchronous, budget, rounds, warmup, Path(tmp))
            rows.append(row)
            _print_row(row)
    _print_commands(rows[0])
    result = {"name": "engine", "quick": quick, "aim_ratio": AIM, "rows": rows}
    path = write_result("engine", result)
    print(f"   results: {path}")
    result["summary"] = [
        f"engine {r['synchronous']:<6} gigroom {r['gigroom_transitions_per_s']:,.0f} transitions/s = "
        f"{r['ratio']:.0%} of raw sqlite3 {r['raw_transactions_per_s']:,.0f} txn/s "
        f"(aim >= {AIM:.0%}: {verdict(r['ratio'], AIM)})"
        for r in rows
    ]
    return result


def _print_row(r: dict[str, Any]) -> None:
    print(f"-- SQLite WAL, synchronous={r['synchronous']}: {r['transitions']:,} transitions "
          f"({r['orders']:,} orders x 10 commands), warm-up excluded, {r['rounds']} alternating rounds")
    print(f"   gigroom (Engine.handle)    {r['gigroom_transitions_per_s']:>10,.0f} transitions/s "
          f"({r['gigroom_seconds']:.2f} s)")
    print(f"   raw sqlite3 replay (limit) {r['raw_transactions_per_s']:>10,.0f} transactions/s, "
          f"{r['raw_statements_per_s']:,.0f} statements/s ({r['raw_seconds']:.2f} s; "
          f"{r['statements_per_transaction']:.1f} statements per transaction plus BEGIN IMMEDIATE and COMMIT)")
    print(f"   diagnostic: same statements via SQLAlchemy Connection.exec_driver_sql "
          f"{r['sqlalchemy_connection_transactions_per_s']:,.0f} transactions/s (no ORM Session, no statement building)")
    rounds = ", ".join(f"{x:.0%}" for x in r["ratio_per_round"])
    print(f"   ratio gigroom/raw          {r['ratio']:>10.1%}   aim >= {AIM:.0%}: {verdict(r['ratio'], AIM)} "
          f"(per round, the first sizing the others: {rounds})")
    print(f"   replay check: {'the databases hold identical rows' if r['replay_identical'] else 'ROWS DIFFER'}"
          + (f"; {r['rolled_back_transactions']} rolled back" if r["rolled_back_transactions"] else ""))


def _print_commands(r: dict[str, Any]) -> None:
    print(f"-- per command (synchronous={r['synchronous']}): mean ms inside Engine.handle vs the raw replay of "
          "its transaction")
    print(f"   {'command':<22}{'gigroom ms':>11}{'raw ms':>9}{'ratio':>7}{'stmts':>7}")
    for name, v in r["per_command"].items():
        print(f"   {name:<22}{v['gigroom_ms']:>11.2f}{v['raw_ms']:>9.2f}{v['raw_ms'] / v['gigroom_ms']:>7.0%}"
              f"{v['statements']:>7.1f}")
