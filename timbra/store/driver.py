"""The stamp path's statements on SQLite's driver: SQLAlchemy writes the SQL and converts the values, the
driver runs them.

A stamp on SQLite runs seven statements (one read, then the CFDI, its XML, its outbox row, its idempotency
key, the credit and the balance) on Core connections (`Database.read`/`write`). Through SQLAlchemy's
execution each costs 5-10 times what sqlite3 takes to run it (the execution context, the parameters, the
result's metadata): about half a millisecond of CPU a stamp, as much as the commit's own work. Here each
statement is compiled once by SQLAlchemy for the dialect (the same SQL it would send), its parameters are
filled by the compiled statement (`construct_params`: the literals of the statement, the caller's values)
and converted by each bind's type for the dialect (UTCDateTime, DateTime, Numeric...: the stored values
are those SQLAlchemy stores, which tests/store/test_driver.py compares column by column), and sqlite3
runs it on the connection's own DBAPI connection, inside its transaction (BEGIN IMMEDIATE, savepoints and
the commit stay SQLAlchemy's). A driver error leaves as SQLAlchemy's exception for it (IntegrityError for a
twin, OperationalError for a locked database), as from `Connection.execute`.

Only for statements whose results need no conversion (integers and texts), on SQLite (no round trips, no
disconnects to handle); everything else, and every Session, goes through SQLAlchemy (`repo._run`).
"""
from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable
from sqlalchemy.sql.dml import Insert


class _Compiled(NamedTuple):
    statement: Executable  # kept: the cache's key is its id
    compiled: Any  # SQLCompiler
    sql: str
    binds: tuple[tuple[str, Callable[[Any], Any] | None], ...]  # (name, converter) in the SQL's order


# per dialect (one an engine), per statement (module constants of store.repo) and, for an INSERT, per set of
# columns given
_cache: weakref.WeakKeyDictionary[Dialect, dict[tuple[int, frozenset[str] | None], _Compiled]] = \
    weakref.WeakKeyDictionary()


def _compile(statement: Executable, dialect: Dialect, keys: frozenset[str] | None) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=sorted(keys) if keys is not None else None)
    if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
        raise ValueError(f"{statement}: a column default would be left out; give every column's value")
    if not compiled.positional:  # sqlite3's qmark style, as SQLAlchemy's pysqlite dialect compiles
        raise ValueError(f"{statement}: the driver is given positional parameters only")
    names = compiled.positiontup or ()
    binds = tuple((n, compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect)) for n in names)
    return _Compiled(statement, compiled, str(compiled), binds)


def prepared(statement: Executable, dialect: Dialect, params: dict) -> tuple[str, list]:
    """The SQL and the positional parameters SQLAlchemy would send for `statement` with `params`."""
    keys = frozenset(params) if isinstance(statement, Insert) else None  # an INSERT's columns are its params
    mine = _cache.get(dialect)
    if mine is None:
        mine = _cache[dialect] = {}
    got = mine.get((id(statement), keys))
    if got is None or got.statement is not statement:
        got = mine[(id(statement), keys)] = _compile(statement, dialect, keys)
    values = got.compiled.construct_params(params)
    return got.sql, [values[n] if f is None else f(values[n]) for n, f in got.binds]


def execute(c: Connection, statement: Executable, params: dict) -> Sequence[tuple]:
    """`c.execute(statement, params).all()` on SQLite, run by the driver (see the module's docstring)."""
    sql, args = prepared(statement, c.dialect, params)
    try:
        cursor = c.connection.driver_connection.execute(sql, args)
        try:
            return cursor.fetchall()
        finally:
            cursor.close()
    except sqlite3.Error as exc:  # as SQLAlchemy's own execution raises it
        raise DBAPIError.instance(sql, args, exc, sqlite3.Error) from exc
