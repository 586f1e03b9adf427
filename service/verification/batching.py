"""Lookups that arrive together share one query, run off the event loop (PostgreSQL).

On SQLite the lookup's query costs ~10 µs and runs on the event loop itself. On PostgreSQL it is
a network round trip (~0.3 ms, half of it the client's CPU): on the loop, every request in the
process would wait behind every other's round trip. So each event loop gets a :class:`Batcher`
with one thread of its own, which owns a held connection. A lookup leaves its code with the
batcher and waits; the codes that arrive within one turn of the loop (and, while a query is in
flight, all that arrive meanwhile) go to the database together in one query, and each waiting
lookup gets its code's rows, exactly as its own query would have returned them. Under load the
round trip is paid once per batch, not once per request; at low load a batch is one code and runs
the usual query.

Nothing is cached here: every lookup waits for a query that started after it arrived, so a
revocation committed before a request came in is in the answer it gets.

One batcher per event loop (per engine), never shared: futures belong to their loop, and each
uvicorn worker, each test client, runs a loop of its own. The app's shutdown closes its loop's
batchers (:func:`close`); a batcher whose loop is gone without that closes when collected.
"""

from __future__ import annotations

import asyncio
import weakref
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from itertools import islice

from service.verification.query import LookupQuery, Rows

__all__ = ["BATCH_LIMIT", "Batcher", "batcher", "close"]

#: Codes per query at most; the rest wait for the next one. A bound on the statement's array and
#: on the rows one fetch returns (~3 rows a code); far above the concurrency one process serves.
BATCH_LIMIT = 200

Waiters = dict[str, list["asyncio.Future[Rows]"]]


def _shut(executor: ThreadPoolExecutor, query: LookupQuery) -> None:
    # The held connection is the worker thread's own (thread-local): that thread must close it.
    try:
        executor.submit(query.close)
    except RuntimeError:  # already shut down, or the interpreter is exiting
        return
    try:
        executor.shutdown(wait=True)
    except RuntimeError:  # collected in the worker thread itself, which cannot join itself
        executor.shutdown(wait=False)


class Batcher:
    """One event loop's batched lookups on one engine. Use it from that loop only.

    It keeps no reference to its loop: the registry below holds loops weakly, and a loop that is
    gone takes its batchers with it.
    """

    def __init__(self, query: LookupQuery, limit: int = BATCH_LIMIT) -> None:
        self.query = query
        self.limit = limit
        self._pending: Waiters = {}
        self._busy = False  # a flush is scheduled or a batch is in flight
        self.closed = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lookup-batch")
        self._closer = weakref.finalize(self, _shut, self._executor, query)
        self._closer.atexit = False

    async def rows_for(self, code: str) -> Rows:
        """``code``'s rows (``()`` when nothing matches), from the next batch to start."""
        if self.closed:
            raise RuntimeError("lookup batcher is closed")
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Rows] = loop.create_future()
        # A future per request, not per code: a client that goes away cancels only its own wait.
        self._pending.setdefault(code, []).append(waiter)
        if not self._busy:
            self._busy = True
            loop.call_soon(self._flush)  # after the requests already running in this turn
        return await waiter

    def _flush(self) -> None:
        if self.closed:
            self._busy = False
            self._fail(self._take_all(), RuntimeError("lookup batcher is closed"))
            return
        if not self._pending:
            self._busy = False
            return
        if len(self._pending) <= self.limit:
            batch, self._pending = self._pending, {}
        else:
            batch = {code: self._pending.pop(code) for code in list(islice(self._pending, self.limit))}
        loop = asyncio.get_running_loop()
        try:
            done = loop.run_in_executor(self._executor, self.query.held_many, tuple(batch))
        except RuntimeError as exc:  # the executor was shut down meanwhile
            self._busy = False
            self._fail(batch, exc)
            return
        done.add_done_callback(partial(self._answer, batch))

    def _answer(self, batch: Waiters, done: asyncio.Future[dict[str, Rows]]) -> None:
        try:
            found = done.result()
        except BaseException as exc:  # a cancelled batch (shutdown) cancels its waiters
            self._fail(batch, exc)
        else:
            for code, waiters in batch.items():
                rows = found.get(code, ())
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(rows)
        if self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        else:
            self._busy = False

    def _take_all(self) -> Waiters:
        batch, self._pending = self._pending, {}
        return batch

    @staticmethod
    def _fail(batch: Waiters, exc: BaseException) -> None:
        """Every request of a failed batch fails with its error (the next batch starts afresh)."""
        for waiters in batch.values():
            for waiter in waiters:
                if waiter.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    waiter.cancel()
                else:
                    waiter.set_exception(exc)

    def close(self) -> None:
        """Close the thread's connection, then the thread (waits for a query in flight)."""
        self.closed = True
        self._closer()


#: Each loop's batchers, by ``id(loop)`` and checked against a weak reference to it: a
#: WeakKeyDictionary would make a weak reference on every lookup, at a cost a lookup can notice.
_batchers: dict[int, tuple[weakref.ref[asyncio.AbstractEventLoop], dict[LookupQuery, Batcher]]] = {}


def _forget(key: int, gone: weakref.ref[asyncio.AbstractEventLoop]) -> None:
    entry = _batchers.get(key)
    if entry is not None and entry[0] is gone:
        del _batchers[key]


def batcher(query: LookupQuery) -> Batcher:
    """The running loop's batcher for ``query``, made on first use."""
    loop = asyncio.get_running_loop()
    entry = _batchers.get(id(loop))
    if entry is None or entry[0]() is not loop:
        entry = _batchers[id(loop)] = (weakref.ref(loop, partial(_forget, id(loop))), {})
    found = entry[1].get(query)
    if found is None or found.closed:
        found = entry[1][query] = Batcher(query)
    return found


def close() -> None:
    """Close the running loop's batchers (the app's shutdown)."""
    loop = asyncio.get_running_loop()
    entry = _batchers.get(id(loop))
    if entry is not None and entry[0]() is loop:
        del _batchers[id(loop)]
        for found in entry[1].values():
            found.close()
