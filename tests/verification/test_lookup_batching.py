"""Lookups under concurrency: batched on PostgreSQL, direct on SQLite, the same answers either way.

Real sealed documents, the real database and app; concurrency from ``asyncio.gather`` on a loop of
the test's own (each ``asyncio.run`` a new loop, so a new batcher).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.main import create_app
from service.verification import batching, limits
from service.verification import service as verification
from service.verification.query import LookupQuery, for_engine
from service.verification.ratelimit import RateLimiter
from storage.archive import Archive
from tests.verification.conftest import Issued, admin_headers, issue

T = TypeVar("T")

UNKNOWN = "ZZZZ-ZZZZ-ZZZZ-ZZZ0"
#: The part of the lookup's SQL that only the lookup runs: how its connections show in pg_stat_activity.
LOOKUP_SQL_MARK = "FROM document LEFT OUTER JOIN document AS successor"


def _postgres(engine: Any) -> bool:
    return bool(engine.dialect.name == "postgresql")


def _batch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("lookup-batch")]


def _on_new_loop(make: Callable[[], Awaitable[T]]) -> T:
    """``make()`` on a loop of its own, whose batchers are closed before the loop ends."""

    async def run() -> T:
        try:
            return await make()
        finally:
            batching.close()

    return asyncio.run(run())


@pytest.fixture()
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, ...]]]:
    """The codes of each batched query run (a spy: the real query still runs)."""
    seen: list[tuple[str, ...]] = []
    original = LookupQuery.held_many

    def spy(self: LookupQuery, codes: Any) -> Any:
        seen.append(tuple(codes))
        return original(self, codes)

    monkeypatch.setattr(LookupQuery, "held_many", spy)
    yield seen


@pytest.fixture()
def generous(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lookups from one address by the dozen: the limiter runs but never refuses."""
    limiter = RateLimiter(per_minute=1_000_000, burst=1_000_000)
    monkeypatch.setattr(limits, "lookup_limiter", lambda: limiter)


@pytest.fixture()
def three(engine: Any, archive: Archive, converter: object) -> list[Issued]:
    """Three documents with different rows: two appraisals, none, three (one failed)."""
    return [
        issue(engine, archive, converter, "certificate", agreed_years=2),
        issue(engine, archive, converter, "notice", name="包小明", agreed_years=3, grades={}),
        issue(
            engine, archive, converter, "certificate", name="乌兰", agreed_years=3,
            grades={1: "合格", 2: "不合格", 3: "合格"}, unit_name="武川县第二中学",
        ),
    ]  # fmt: skip


def test_concurrent_lookups_answer_as_one_by_one(
    engine: Any, three: list[Issued], calls: list[tuple[str, ...]]
) -> None:
    codes = [d.code for d in three]
    typed = [*codes, codes[0].lower(), codes[1].replace("-", " "), UNKNOWN, "hello", "", codes[2], codes[0]]
    expected = [verification.query(engine, t) for t in typed]  # one by one, each on a pooled connection
    assert [len(r) for r in expected[:3]] == [2, 1, 3] and expected[5:8] == [(), (), ()]
    assert expected[3] == expected[0] and expected[4] == expected[1]

    async def together() -> list[Any]:
        return list(await asyncio.gather(*(verification.query_async(engine, t) for t in typed)))

    assert _on_new_loop(together) == expected
    if _postgres(engine):
        # One query for all of them, each distinct canonical code once (malformed ones as the dummy).
        assert len(calls) == 1
        assert sorted(calls[0]) == sorted({*codes, UNKNOWN, verification.DUMMY_CODE})
        # A second loop gets a batcher of its own and answers the same.
        assert _on_new_loop(together) == expected and len(calls) == 2
    else:
        assert calls == [], "SQLite runs the lookup directly, never batched"
    assert _batch_threads() == [], "the batching thread ends with its loop's batchers"


def test_batched_rows_are_the_single_query_rows(engine: Any, three: list[Issued]) -> None:
    """The cache key of every statement: a code's rows from the batch must be its rows alone."""
    if not _postgres(engine):
        pytest.skip("lookups are batched on PostgreSQL only")
    query = for_engine(engine)
    codes = [d.code for d in three]
    try:
        batched = query.held_many([*codes, UNKNOWN])
        alone = {c: query.held(c) for c in codes}
    finally:
        query.close()
    assert batched == alone
    assert all(isinstance(r, tuple) for rows in batched.values() for r in rows)
    assert verification.build(engine, batched[codes[2]]) is verification.build(engine, alone[codes[2]])


def test_a_batch_takes_at_most_its_limit(
    engine: Any, three: list[Issued], calls: list[tuple[str, ...]]
) -> None:
    if not _postgres(engine):
        pytest.skip("lookups are batched on PostgreSQL only")
    codes = [d.code for d in three]
    wanted = [*codes, UNKNOWN, codes[0]]

    async def run() -> list[Any]:
        small = batching.Batcher(for_engine(engine), limit=2)
        try:
            return list(await asyncio.gather(*(small.rows_for(c) for c in wanted)))
        finally:
            small.close()

    answers = asyncio.run(run())
    assert answers == [verification.query(engine, c) for c in wanted]
    assert [len(c) for c in calls] == [2, 2]  # four distinct codes; the fifth lookup shares a slot
    assert _batch_threads() == []


def test_a_cancelled_lookup_leaves_the_others_sharing_its_code(engine: Any, three: list[Issued]) -> None:
    code = three[0].code

    async def run() -> tuple[Any, bool]:
        gone = asyncio.ensure_future(verification.query_async(engine, code))
        kept = asyncio.ensure_future(verification.query_async(engine, code))
        await asyncio.sleep(0)  # both are waiting now (on PostgreSQL, in the same slot)
        gone.cancel()
        rows = await kept
        await asyncio.sleep(0)
        return rows, gone.cancelled()

    rows, cancelled = _on_new_loop(run)
    assert rows == verification.query(engine, code) and len(rows) == 2
    assert cancelled or not _postgres(engine)  # on SQLite the lookup was over before the cancel


async def _get_all(app: Any, paths: list[str], headers: dict[str, str] | None = None) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers) as http:
        return list(await asyncio.gather(*(http.get(p) for p in paths)))


def test_revocation_shows_on_the_very_next_lookups(
    engine: Any, three: list[Issued], generous: None, calls: list[tuple[str, ...]]
) -> None:
    app = create_app()
    doc = three[0]
    paths = [f"/api/v1/verify/{d.code}" for d in three] * 4
    headers = admin_headers(engine)

    async def run() -> tuple[list[httpx.Response], httpx.Response, list[httpx.Response]]:
        before = await _get_all(app, paths)  # the statements are now cached in this process
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            revoked = await http.post(
                f"/api/v1/documents/{doc.document_id}/revoke",
                json={"reason": "服务单位信息有误"},
                headers=headers,
            )
        return before, revoked, await _get_all(app, paths)

    before, revoked, after = _on_new_loop(run)
    assert revoked.status_code == 200, revoked.text
    assert [r.status_code for r in before + after] == [200] * 24
    assert {r.json()["status"] for r in before} == {"有效"}
    assert [r.json()["status"] for r in after] == ["已撤销", "有效", "有效"] * 4
    assert after[0].json()["revoked"]["reason"] == "服务单位信息有误"
    if _postgres(engine):
        assert len(calls) < 2 * len(paths), "lookups arriving together share a query"


def _rename(engine: Any, old: str, new: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


def test_a_failed_query_fails_its_lookups_and_the_next_ones_work(
    engine: Any, three: list[Issued], generous: None
) -> None:
    """As without batching: the server's error answer (500, problem+json) for every lookup the failed
    query was for, and lookups afterwards answered again, on a fresh connection."""
    app = create_app()
    paths = [f"/api/v1/verify/{d.code}" for d in three] * 3 + [f"/api/v1/verify/{UNKNOWN}"]

    async def run() -> tuple[list[httpx.Response], list[httpx.Response]]:
        assert {r.status_code for r in await _get_all(app, paths)} == {200, 404}  # connection held
        _rename(engine, "appraisalgrade", "appraisalgrade_gone")  # the lookup's query now fails
        try:
            failed = await _get_all(app, paths)
        finally:
            _rename(engine, "appraisalgrade_gone", "appraisalgrade")
        return failed, await _get_all(app, paths)

    failed, again = _on_new_loop(run)
    assert [r.status_code for r in failed] == [500] * len(paths)
    assert {r.headers["content-type"] for r in failed} == {"application/problem+json"}
    assert {r.json()["code"] for r in failed} == {"internal_error"}
    assert [r.status_code for r in again] == [200] * 9 + [404]
    assert [r.json()["document"]["code"] for r in again[:3]] == [d.code for d in three]


def _lookup_backends(engine: Any) -> set[int]:
    """Other backends of this database whose last statement was the lookup."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND query LIKE :mark"
            ),
            {"mark": f"%{LOOKUP_SQL_MARK}%"},
        )
        return {r[0] for r in rows}


def _until(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _kill(engine: Any, pid: int) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar() is True
    assert _until(lambda: pid not in _lookup_backends(engine))


def test_a_dropped_connection_is_replaced(engine: Any, three: list[Issued], generous: None) -> None:
    """The batching thread's connection killed by the server (a restart, a network cut): the next
    lookups still answer, one retry on a fresh connection, as on the loop."""
    if not _postgres(engine):
        pytest.skip("the batching thread and its connection are PostgreSQL's")
    app = create_app()
    paths = [f"/api/v1/verify/{d.code}" for d in three] * 2
    earlier = _lookup_backends(engine)

    async def run() -> tuple[list[httpx.Response], set[int], set[int]]:
        assert [r.status_code for r in await _get_all(app, paths)] == [200] * 6
        first = _lookup_backends(engine) - earlier
        assert len(first) == 1
        _kill(engine, next(iter(first)))
        answers = await _get_all(app, paths)  # three codes: the batched query, not the single one
        return answers, first, _lookup_backends(engine) - earlier

    answers, first, second = _on_new_loop(run)
    assert [r.status_code for r in answers] == [200] * 6
    assert [r.json()["document"]["code"] for r in answers[:3]] == [d.code for d in three]
    assert len(second) == 1 and not second & first


def test_the_apps_shutdown_closes_the_batching_thread_and_its_connection(
    engine: Any, three: list[Issued]
) -> None:
    if not _postgres(engine):
        pytest.skip("the batching thread and its connection are PostgreSQL's")
    earlier = _lookup_backends(engine)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        assert client.get(f"/api/v1/verify/{three[0].code}").status_code == 200
        mine = _lookup_backends(engine) - earlier
        assert len(mine) == 1 and len(_batch_threads()) == 1
    assert _batch_threads() == []
    assert _until(lambda: not (mine & _lookup_backends(engine))), "the connection is closed"
