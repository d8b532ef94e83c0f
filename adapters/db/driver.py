"""SQLAlchemy Core statements compiled once per dialect and run on the database driver's own cursor.

The unit of work sends a handful of small statements per command, and SQLAlchemy's execution layer
(execution context, events, result objects) cost more than the database's own work for each of them
(bench/engine.py measured it). Here SQLAlchemy still writes the SQL, for SQLite and PostgreSQL alike,
and still converts every value: each bound parameter goes through its type's bind processor for that
dialect and each result column through its result processor, so a timestamp is stored and read back
exactly as SQLAlchemy would. What is left out is the per-call machinery. A driver error is raised as
SQLAlchemy's own exception (IntegrityError, OperationalError, ...), as a Connection would raise it.

Only plain statements qualify: no expanding IN, no Python-side defaults to compute, no literal
rendering at execution time. Compiling anything else fails at once, rather than running wrongly.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class Compiled:
    """One statement for one dialect: its SQL, how to bind its parameters and how to read its rows."""

    sql: str
    positional: bool
    binds: tuple[tuple[str, Processor], ...]  # (name, bind processor), in the SQL's order
    defaults: dict[str, Any]  # values of the parameters that have one (a LIMIT, ...)
    results: tuple[Processor, ...]

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        if self.defaults:
            values = {**self.defaults, **values}
        try:
            if self.positional:
                return tuple([values[name] if process is None else process(values[name])
                              for name, process in self.binds])
            return {name: values[name] if process is None else process(values[name]) for name, process in self.binds}
        except KeyError as missing:
            raise KeyError(f"no value for the parameter {missing} of: {self.sql}") from None

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple([value if process is None else process(value)
                      for value, process in zip(raw, self.results, strict=True)])


class Sql:
    """A Core statement, compiled on first use for each dialect."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: ClauseElement):
        self.statement = statement
        self._compiled: dict[str, Compiled] = {}

    def compiled(self, dialect: Dialect) -> Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _compile(self.statement, dialect)
        return found


def _compile(statement: ClauseElement, dialect: Dialect) -> Compiled:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    if compiled.insert_prefetch or compiled.update_prefetch or compiled.literal_execute_params \
            or compiled.post_compile_params:
        raise ValueError(f"not a plain statement (defaults, expanding or literal parameters): {compiled.string}")
    names = compiled.positiontup if compiled.positional else list(compiled.binds)
    assert names is not None
    parameters = [compiled.binds[name] for name in names]
    binds = tuple((name, parameter.type.dialect_impl(dialect).bind_processor(dialect))
                  for name, parameter in zip(names, parameters, strict=True))
    defaults = {name: parameter.effective_value
                for name, parameter in zip(names, parameters, strict=True) if not parameter.required}
    results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                    for column in getattr(statement, "exported_columns", ()))
    return Compiled(compiled.string, bool(compiled.positional), binds, defaults, results)


class Cursor:
    """The driver's cursor of one transaction, running `Sql` statements."""

    def __init__(self, driver_cursor: Any, dialect: Dialect):
        self.cursor, self.dialect = driver_cursor, dialect
        self.errors: type[Exception] = dialect.loaded_dbapi.Error

    def execute(self, sql: Sql, values: Mapping[str, Any]) -> int:
        """Run a statement; how many rows it changed."""
        compiled = sql.compiled(self.dialect)
        self._run(compiled.sql, compiled.parameters(values))
        return int(self.cursor.rowcount)

    def executemany(self, sql: Sql, rows: Iterable[Mapping[str, Any]]) -> None:
        compiled = sql.compiled(self.dialect)
        self._run(compiled.sql, [compiled.parameters(values) for values in rows], many=True)

    def first(self, sql: Sql, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        compiled = sql.compiled(self.dialect)
        self._run(compiled.sql, compiled.parameters(values))
        found = self.cursor.fetchone()
        return None if found is None else compiled.row(found)

    def scalar(self, sql: Sql, values: Mapping[str, Any]) -> Any:
        found = self.first(sql, values)
        return None if found is None else found[0]

    def plain(self, text: str) -> None:
        """A statement of no parameters that SQLAlchemy does not build: BEGIN, SAVEPOINT, ..."""
        self._run(text, ())

    def _run(self, text: str, parameters: Any, many: bool = False) -> None:
        try:
            if many:
                self.cursor.executemany(text, parameters)
            else:
                self.cursor.execute(text, parameters)
        except self.errors as error:
            raise translate(error, text, parameters, self.dialect) from error


def translate(error: Exception, text: str | None, parameters: Any, dialect: Dialect) -> DBAPIError:
    """The driver's error as the SQLAlchemy exception a Connection would raise for it."""
    translated = DBAPIError.instance(text, parameters, error, dialect.loaded_dbapi.Error, hide_parameters=True,
                                     dialect=dialect)
    assert isinstance(translated, DBAPIError)
    return translated
