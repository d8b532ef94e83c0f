"""Durations as people write them: 30m, 48h, 5d, 1w, or combinations like 1d12h."""

import re
from datetime import timedelta

from core.errors import Refused

_PART = re.compile(r"(\d+)\s*([wdhms])")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
MAX_DURATION = timedelta(days=3650)  # longer makes no sense for a timer, and dates overflow past year 9999


def parse_duration(text: str) -> timedelta:
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned.isdigit():
        cleaned += "d"
    parts = _PART.findall(cleaned)
    if not parts or "".join(n + u for n, u in parts) != cleaned:
        raise Refused(f"'{text}' is not a duration: write it like 48h, 3d or 1d12h.")
    try:
        total = sum((timedelta(**{_UNITS[u]: int(n)}) for n, u in parts), timedelta())
    except OverflowError:
        total = timedelta.max
    if total > MAX_DURATION:
        raise Refused(f"'{text}' is too long: a duration is at most {format_duration(MAX_DURATION)}.")
    return total


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0m"
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "m")) if v]
    return sign + ("".join(parts) or f"{seconds}s")
