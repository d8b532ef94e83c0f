"""One instance of any event type, its fields filled from their types: for tests that must cover every event."""

import dataclasses
import enum
import types
import typing
from datetime import datetime, timedelta
from typing import Any

from core import events as ev


def sample(kind: type[Any], known: dict[str, Any], at: datetime) -> Any:
    """An instance of the dataclass `kind`: a field named in `known` takes its value there, any other one a
    plain value of its type (nested dataclasses, enums and tuples built the same way)."""
    hints = typing.get_type_hints(kind)
    return kind(**{f.name: known[f.name] if f.name in known else _value(f.name, hints[f.name], known, at)
                   for f in dataclasses.fields(kind) if f.init})


def _value(name: str, hint: Any, known: dict[str, Any], at: datetime) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return _value(name, next(a for a in args if a is not type(None)), known, at)
    if origin is tuple:
        return (_value(name, args[0], known, at),)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return next(iter(hint))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return sample(hint, known, at)
    plain = {bool: True, int: 1, datetime: at, timedelta: timedelta(days=1), str: f"the {name.replace('_', ' ')}"}
    return plain[hint]


def every_event(known: dict[str, Any], at: datetime) -> list[ev.Event]:
    """One event of each type gigroom has."""
    return [sample(kind, known, at) for kind in ev.EVENT_TYPES.values()]
