"""Helpers the benchmarks share: a migrated SQLite template, memory readings, results as JSON."""

import json
import os
import resource
import shutil
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def migrated_database(path: Path) -> Path:
    """A fresh SQLite file at `path` with gigroom's schema, through gigroom's own migrations."""
    from adapters.db.connect import connect
    from adapters.db.migrate import upgrade

    database = connect(sqlite_url(path))
    upgrade(database)
    database.dispose()  # the last connection checkpoints the WAL: the file alone is the database
    return path


def copy_database(source: Path, target: Path) -> Path:
    """A copy of a closed SQLite database (and its WAL, if one was left)."""
    shutil.copyfile(source, target)
    for suffix in ("-wal", "-shm"):
        extra = Path(f"{source}{suffix}")
        if extra.exists():
            shutil.copyfile(extra, Path(f"{target}{suffix}"))
    return target


def status_kib(field: str) -> int | None:
    """A field of /proc/self/status in KiB (VmRSS: now, VmHWM: the peak so far), or None off Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mib() -> float:
    kib = status_kib("VmRSS")
    return (kib if kib is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def peak_rss_mib() -> float:
    """The peak resident set of this process so far (VmHWM; ru_maxrss where /proc is missing)."""
    kib = status_kib("VmHWM")
    return (kib if kib is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), linear between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    data = {**data, "cpus": os.cpu_count(), "load_average_at_end": os.getloadavg(),
            "written_at": datetime.now(UTC).isoformat(timespec="seconds")}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def verdict(value: float, aim: float, higher_is_better: bool = True) -> str:
    met = value >= aim if higher_is_better else value <= aim
    return "meets the aim" if met else "BELOW the aim" if higher_is_better else "ABOVE the aim"
