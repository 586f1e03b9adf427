"""The lookup's one query, run on raw DBAPI connections.

Through a pooled SQLAlchemy connection the query costs ~90 µs of CPU (checkout, reset on return,
result wrapping); on the driver's own cursor ~10 µs. On the busiest public path that difference
is a quarter of a request. So the query is compiled once for the engine's dialect and run on a
driver connection: a pooled one in worker threads, and on the event loop a connection held for
the process, outside the pool (autocommit, so every read sees the latest commit and no
transaction stays open).

On PostgreSQL the query is a network round trip, not ten microseconds, and the event loop must
not wait for it: the API's lookups go to a worker thread holding such a connection (see
:mod:`.batching`), and those that arrive together share one run of :data:`LOOKUP_MANY`, whose
rows, grouped by code, are exactly the rows :data:`LOOKUP` gives each code alone.

Rows come back exactly as the driver gives them (the cache key: nothing else decides the
answer); :meth:`LookupQuery.typed` applies SQLAlchemy's own result processors when a statement
is built from them (SQLite returns datetimes as text and booleans as integers).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ARRAY, Engine, String, any_, bindparam, create_engine, select
from sqlalchemy.pool import NullPool

from storage.models import Appraisal, AppraisalGrade, Document

__all__ = ["LOOKUP", "LOOKUP_MANY", "LookupQuery", "Rows"]

Rows = tuple[tuple[Any, ...], ...]
T = TypeVar("T")

_doc = Document.__table__  # type: ignore[attr-defined]
_successor = _doc.alias("successor")
_appraisal = Appraisal.__table__  # type: ignore[attr-defined]
_grade = AppraisalGrade.__table__  # type: ignore[attr-defined]

#: Registry row, successor's code, and one row per recorded appraisal of the document's term.
#: verification_code has a unique index; appraisal.term_id and the primary keys one each.
_SELECT = select(
    _doc.c.id,
    _doc.c.kind,
    _doc.c.number,
    _doc.c.verification_code,
    _doc.c.status,
    _doc.c.status_reason,
    _doc.c.status_changed_at,
    _doc.c.current_sha256,
    _doc.c.signing_state,
    _successor.c.verification_code.label("successor_code"),
    _appraisal.c.service_year,
    _appraisal.c.grade,
    _grade.c.qualified,
).select_from(
    _doc.outerjoin(_successor, _successor.c.id == _doc.c.superseded_by_id)
    .outerjoin(_appraisal, _appraisal.c.term_id == _doc.c.term_id)
    .outerjoin(_grade, _grade.c.code == _appraisal.c.grade)
)
LOOKUP = _SELECT.where(_doc.c.verification_code == bindparam("code")).order_by(_appraisal.c.service_year)

#: :data:`LOOKUP` for many codes at once (PostgreSQL: one array parameter, so one statement text
#: whatever the number of codes, which the driver prepares once). Each code's rows stay together
#: (a code is one document) and in :data:`LOOKUP`'s order.
LOOKUP_MANY = _SELECT.where(
    _doc.c.verification_code == any_(bindparam("codes", type_=ARRAY(String)))
).order_by(_doc.c.id, _appraisal.c.service_year)

_CODE = 3  # the column of verification_code in both


class LookupQuery:
    """:data:`LOOKUP` compiled for one engine (and :data:`LOOKUP_MANY` on PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect
        compiled = LOOKUP.compile(dialect=dialect)
        self.engine = engine
        self.sql = str(compiled)
        self._names = tuple(compiled.positiontup or ()) if compiled.positional else None
        # An array parameter is PostgreSQL's: elsewhere lookups are not batched (see .batching).
        self.many_sql = str(LOOKUP_MANY.compile(dialect=dialect)) if dialect.name == "postgresql" else None
        self._processors = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in LOOKUP.selected_columns
        ]
        self._held = threading.local()
        # Held connections come from an engine of their own that never pools: one in autocommit must
        # never be handed to a session expecting a transaction, not even after its thread has died
        # and the garbage collector returned it (a pooled engine would put it back in the pool).
        self._unpooled = create_engine(engine.url, poolclass=NullPool)

    def _params(self, code: str) -> Any:
        values = {"code": code}
        return tuple(values[n] for n in self._names) if self._names is not None else values

    def _run(self, dbapi_connection: Any, code: str) -> Rows:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(self.sql, self._params(code))
            return tuple(tuple(r) for r in cursor.fetchall())
        finally:
            cursor.close()

    def _run_many(self, dbapi_connection: Any, codes: Sequence[str]) -> dict[str, Rows]:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(self.many_sql, {"codes": list(codes)})
            found: dict[str, list[tuple[Any, ...]]] = {}
            for r in cursor.fetchall():
                row = tuple(r)
                found.setdefault(row[_CODE], []).append(row)
        finally:
            cursor.close()
        return {code: tuple(rows) for code, rows in found.items()}

    def pooled(self, code: str) -> Rows:
        """On a connection from the engine's pool, returned (and reset) afterwards."""
        fairy = self.engine.raw_connection()
        try:
            return self._run(fairy.driver_connection, code)
        finally:
            fairy.close()

    def held(self, code: str) -> Rows:
        """On this thread's own connection, kept open (the event loop's, or the batching thread's).

        A connection that fails (the server restarted, the network dropped) is thrown away and the
        query tried once more on a fresh one.
        """
        return self._on_held(lambda connection: self._run(connection, code))

    def held_many(self, codes: Sequence[str]) -> dict[str, Rows]:
        """Each code's rows, exactly as :meth:`held` gives them, from one query on this thread's held
        connection (PostgreSQL only); codes nothing matches are left out. Retried once, as there.

        One code runs :data:`LOOKUP` itself: at low load, each lookup does what it always did.
        """
        if len(codes) == 1:
            return {codes[0]: self.held(codes[0])}
        if self.many_sql is None:
            raise NotImplementedError(f"no batched lookup on {self.engine.dialect.name}")
        return self._on_held(lambda connection: self._run_many(connection, codes))

    def _on_held(self, run: Callable[[Any], T]) -> T:
        """``run`` on this thread's held driver connection; a failed connection is replaced, once."""
        for attempt in (1, 2):
            fairy = self._held_fairy()
            try:
                return run(fairy.driver_connection)
            except self.engine.dialect.loaded_dbapi.Error:
                self._drop_held(fairy)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _held_fairy(self) -> Any:
        fairy = getattr(self._held, "fairy", None)
        if fairy is None:
            fairy = self._unpooled.raw_connection()
            if self.engine.dialect.name == "postgresql":
                fairy.driver_connection.autocommit = True  # type: ignore[union-attr]
            self._held.fairy = fairy
        return fairy

    def _drop_held(self, fairy: Any) -> None:
        self._held.fairy = None
        fairy.invalidate()

    def typed(self, rows: Rows) -> list[tuple[Any, ...]]:
        """The rows with Python types, as SQLAlchemy would have returned them."""
        return [
            tuple(p(v) if p is not None else v for p, v in zip(self._processors, row, strict=True))
            for row in rows
        ]

    def close(self) -> None:
        """Close this thread's held connection (tests, shutdown)."""
        fairy = getattr(self._held, "fairy", None)
        if fairy is not None:
            self._held.fairy = None
            fairy.close()


_queries: dict[int, LookupQuery] = {}
_lock = threading.Lock()


def for_engine(engine: Engine) -> LookupQuery:
    """The compiled lookup of ``engine`` (one per engine and process)."""
    found = _queries.get(id(engine))
    if found is None or found.engine is not engine:
        with _lock:
            found = _queries.get(id(engine))
            if found is None or found.engine is not engine:
                found = _queries[id(engine)] = LookupQuery(engine)
    return found
