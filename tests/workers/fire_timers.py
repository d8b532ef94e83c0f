"""A gigroom process that only fires timers, for the crash and two-process tests.

usage: python -m tests.workers.fire_timers DATABASE_URL NOW_ISO [--pause SECONDS]
Fires every due timer as of NOW (a fixed clock) and prints how many it fired.
"""

import sys
import time
from datetime import datetime

from adapters.db.connect import connect
from adapters.db.uow import SqlUnitOfWork
from core.engine import Engine


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment


def main() -> None:
    url, now = sys.argv[1], datetime.fromisoformat(sys.argv[2])
    pause = float(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--pause" else 0.0
    database = connect(url)
    clock = FixedClock(now)
    engine = Engine(lambda: SqlUnitOfWork(database, clock.now), clock)
    fired = 0
    print("ready", flush=True)
    while True:
        count = engine.fire_due(limit=1)
        if not count:
            break
        fired += count
        if pause:
            time.sleep(pause)
    print(f"fired {fired}", flush=True)


if __name__ == "__main__":
    main()
