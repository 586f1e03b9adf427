"""Batch issuance of a cohort's notices: start, claim with a lease, run, report progress.

Workers (the CLI process, ``xibu worker`` processes, on one machine or several) share a batch by
claiming chunks of items. A claim is a lease: an item claimed by a worker that died becomes
claimable again when the lease runs out, or at once when the batch is resumed from the CLI.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psutil
from sqlalchemy import ColumnElement, func, or_, update
from sqlmodel import Session, col, select

from service.cohorts import service as cohorts
from service.config import get_settings
from service.documents.codes import new_code
from service.documents.converter import Converter
from service.documents.data import load_terms, notice_data
from service.documents.issuing import IssueError, Planned, Sealer, issue_many, today_in_china
from service.errors import AppError, NotFound
from storage.archive import Archive
from storage.db import session_scope
from storage.models import Batch, BatchItem, BatchStatus, Document, ItemStatus, ServiceTerm

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BATCH_KINDS = ("notice",)


def notice_slot(term_id: int) -> str:
    return f"notice/term/{term_id}"


def start_batch(
    session: Session, cohort_code: str, kind: str = "notice", *, user_id: int | None = None
) -> Batch:
    """A batch with one pending item per volunteer who has no live notice yet.

    Idempotent: an unfinished batch of the same cohort and kind is returned instead of a new one,
    and volunteers who already have a notice are never queued again.
    """
    if kind not in BATCH_KINDS:
        raise AppError(f"暂不支持批量签发“{kind}”", status=422, code="bad_kind")
    cohort = cohorts.get_by_code(session, cohort_code)
    running = session.exec(
        select(Batch).where(
            Batch.cohort_id == cohort.id, Batch.kind == kind, Batch.status == BatchStatus.RUNNING.value
        )
    ).first()
    if running is not None:
        return running
    issued = select(Document.term_id).where(
        Document.kind == kind,
        col(Document.live_slot).is_not(None),
        Document.cohort_id == cohort.id,
        col(Document.term_id).is_not(None),  # NOT IN over a NULL would match nothing
    )
    term_ids = session.exec(
        select(ServiceTerm.id)
        .where(ServiceTerm.cohort_id == cohort.id, col(ServiceTerm.id).not_in(issued))
        .order_by(col(ServiceTerm.id))
    ).all()
    assert cohort.id is not None
    if not term_ids:
        latest = session.exec(
            select(Batch)
            .where(Batch.cohort_id == cohort.id, Batch.kind == kind)
            .order_by(col(Batch.id).desc())
        ).first()
        if latest is not None:
            return latest  # everyone already has one: nothing new to start
    batch = Batch(kind=kind, cohort_id=cohort.id, total=len(term_ids), created_by_id=user_id)
    session.add(batch)
    session.flush()
    assert batch.id is not None
    if term_ids:
        session.execute(
            BatchItem.__table__.insert(),  # type: ignore[attr-defined]
            [
                {"batch_id": batch.id, "term_id": t, "status": ItemStatus.PENDING.value, "attempts": 0}
                for t in term_ids
            ],
        )
    else:
        batch.status = BatchStatus.FINISHED.value
        batch.finished_at = datetime.now(UTC)
    session.flush()
    return batch


def get_batch(session: Session, batch_id: int) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"批次{batch_id}不存在")
    return batch


def _worker_id() -> str:
    return f"{socket.gethostname()[:20]}:{os.getpid()}"


def _claimant_dead(token: str | None) -> bool:
    """True when a claim was made on this machine by a process that no longer runs."""
    host, _, rest = (token or "").partition(":")
    pid = rest.split(":", 1)[0]
    if host != socket.gethostname()[:20] or not pid.isdigit():
        return False  # another machine's worker: its lease decides
    return not psutil.pid_exists(int(pid)) or int(pid) == os.getpid()


def release_dead_claims(session: Session, batch_id: int) -> int:
    """Make items claimed by crashed workers of this machine pending again, without waiting for the lease."""
    claimed = session.exec(
        select(BatchItem).where(BatchItem.batch_id == batch_id, BatchItem.status == ItemStatus.CLAIMED.value)
    ).all()
    released = 0
    for item in claimed:
        if _claimant_dead(item.claim_token):
            item.status, item.claim_token, item.claimed_until = ItemStatus.PENDING.value, None, None
            released += 1
    session.flush()
    return released


def retry_failed(session: Session, batch_id: int) -> int:
    result = session.execute(
        update(BatchItem)
        .where(col(BatchItem.batch_id) == batch_id, col(BatchItem.status) == ItemStatus.FAILED.value)
        .values(status=ItemStatus.PENDING.value, error=None)
    )
    batch = get_batch(session, batch_id)
    if result.rowcount:  # type: ignore[attr-defined]
        batch.status = BatchStatus.RUNNING.value
        batch.finished_at = None
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Pending, or claimed by a worker whose lease ran out."""
    return or_(
        col(BatchItem.status) == ItemStatus.PENDING.value,
        (col(BatchItem.status) == ItemStatus.CLAIMED.value) & (col(BatchItem.claimed_until) < now),
    )


def claim(session: Session, batch_id: int, limit: int) -> list[BatchItem]:
    """Claim up to ``limit`` items for this worker; concurrent workers never get the same item."""
    now = datetime.now(UTC)
    token = f"{_worker_id()}:{secrets.token_hex(6)}"
    claimable = _claimable(now)
    pick = (
        select(BatchItem.id)
        .where(col(BatchItem.batch_id) == batch_id, claimable)
        .order_by(col(BatchItem.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    # Two steps on purpose: PostgreSQL may re-run a LIMIT sub-select inside UPDATE … IN (…) per row
    # and claim far more than asked. The UPDATE repeats the claimable test, so of two workers that
    # picked the same ids (possible on SQLite) only one wins each item.
    while True:
        ids = list(session.exec(pick).all())
        if not ids:
            return []
        session.execute(
            update(BatchItem)
            .where(col(BatchItem.id).in_(ids), claimable)
            .values(status=ItemStatus.CLAIMED.value, claim_token=token, claimed_until=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        session.flush()
        won = list(session.exec(select(BatchItem).where(BatchItem.claim_token == token)).all())
        if won:
            return won
        # Another worker took exactly these between our look and our update: look again.


#: The smallest claim near a batch's end: LibreOffice has a cost per conversion, so tiny chunks
#: would trade it for balance.
MIN_TAIL_CHUNK = 10


def tail_chunk(pending: int, busy: int, chunk: int) -> int:
    """How many items to claim when ``pending`` are left and ``busy`` other claims are being worked.

    Full chunks while there is plenty of work; near the end, chunks shrink with what is left
    (guided self-scheduling), so the workers finish together instead of one working through a last
    full chunk while the others sit idle.
    """
    workers = busy + 1
    return max(1, min(chunk, max(MIN_TAIL_CHUNK, -(-pending // (2 * workers)))))


def claim_size(session: Session, batch_id: int, chunk: int) -> int:
    """:func:`tail_chunk` for this batch as it stands: pending items, and claims held by others."""
    now = datetime.now(UTC)
    pending = session.exec(select(func.count()).where(BatchItem.batch_id == batch_id, _claimable(now))).one()
    busy = session.exec(
        select(func.count(func.distinct(BatchItem.claim_token))).where(
            BatchItem.batch_id == batch_id,
            BatchItem.status == ItemStatus.CLAIMED.value,
            col(BatchItem.claimed_until) >= now,
        )
    ).one()
    return tail_chunk(int(pending), int(busy), chunk)


@dataclass(frozen=True)
class Progress:
    batch_id: int
    kind: str
    status: str
    total: int
    done: int
    failed: int
    rate: float  # documents per second over the last minute of work
    eta_seconds: float | None

    @property
    def remaining(self) -> int:
        return self.total - self.done - self.failed


def progress(session: Session, batch_id: int) -> Progress:
    batch = get_batch(session, batch_id)
    counts = dict(
        session.exec(
            select(BatchItem.status, func.count())
            .where(BatchItem.batch_id == batch_id)
            .group_by(BatchItem.status)
        ).all()
    )
    done, failed = counts.get(ItemStatus.DONE.value, 0), counts.get(ItemStatus.FAILED.value, 0)
    window_start = datetime.now(UTC) - timedelta(seconds=60)
    first, last, recent = session.exec(
        select(func.min(BatchItem.finished_at), func.max(BatchItem.finished_at), func.count()).where(
            BatchItem.batch_id == batch_id, col(BatchItem.finished_at) >= window_start
        )
    ).one()
    rate = 0.0
    if first is not None and last is not None and recent > 1:
        span = max((_aware(last) - _aware(first)).total_seconds(), 0.5)
        rate = (recent - 1) / span
    remaining = batch.total - done - failed
    eta = remaining / rate if rate > 0 else None
    assert batch.id is not None
    return Progress(batch.id, batch.kind, batch.status, batch.total, done, failed, rate, eta)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _finish_if_complete(session: Session, batch: Batch) -> None:
    open_items = session.exec(
        select(func.count()).where(
            BatchItem.batch_id == batch.id,
            col(BatchItem.status).in_([ItemStatus.PENDING.value, ItemStatus.CLAIMED.value]),
        )
    ).one()
    if open_items == 0 and batch.status != BatchStatus.FINISHED.value:
        batch.status = BatchStatus.FINISHED.value
        batch.finished_at = datetime.now(UTC)


def run_batch(
    batch_id: int,
    converter: Converter,
    archive: Archive,
    *,
    chunk: int = 50,
    sealer: Sealer | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> Progress:
    """Issue every claimable item of a batch; safe to run again, and in several processes at once.

    Each chunk is claimed in one transaction and issued in the next, so a crash loses at most the
    claim (released by its lease or by ``release_dead_claims``), never a document or its item state.
    One lane per LibreOffice instance: while one lane renders in Python, another's conversion runs,
    so neither the CPU nor the instances sit idle.
    """
    lanes = max(1, converter.parallelism)
    if lanes == 1:
        _drain(batch_id, converter, archive, chunk, sealer, on_progress)
    else:
        with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="batch-lane") as pool:
            futures = [
                pool.submit(_drain, batch_id, converter, archive, chunk, sealer, on_progress)
                for _ in range(lanes)
            ]
            for future in futures:
                future.result()
    with session_scope() as session:
        _finish_if_complete(session, get_batch(session, batch_id))
    with session_scope() as session:
        return progress(session, batch_id)


def _drain(
    batch_id: int,
    converter: Converter,
    archive: Archive,
    chunk: int,
    sealer: Sealer | None,
    on_progress: Callable[[Progress], None] | None,
) -> None:
    public_url = get_settings().public_url
    while True:
        with session_scope() as session:
            items = claim(session, batch_id, claim_size(session, batch_id, chunk))
        if not items:
            return
        with session_scope() as session:
            batch = get_batch(session, batch_id)
            _issue_chunk(session, batch, items, converter, archive, public_url, sealer)
            _finish_if_complete(session, batch)
        if on_progress is not None:
            with session_scope() as session:
                on_progress(progress(session, batch_id))


def _issue_chunk(
    session: Session,
    batch: Batch,
    items: list[BatchItem],
    converter: Converter,
    archive: Archive,
    public_url: str,
    sealer: Sealer | None,
) -> None:
    records = load_terms(session, [i.term_id for i in items])
    issue_date = today_in_china()
    planned: list[Planned] = []
    live = set(
        session.exec(
            select(Document.live_slot).where(
                col(Document.live_slot).in_([notice_slot(i.term_id) for i in items])
            )
        ).all()
    )
    # Read and convert first, write last: on SQLite a write holds the database lock, and holding it
    # through conversion would starve every other worker.
    rows = list(session.exec(select(BatchItem).where(col(BatchItem.id).in_([i.id for i in items]))).all())
    outcomes: dict[int, tuple[str, str | None, int | None]] = {}
    todo: list[BatchItem] = []
    for item in rows:
        rec = records.get(item.term_id)
        assert item.id is not None
        if notice_slot(item.term_id) in live:  # issued outside this batch meanwhile: nothing to do
            outcomes[item.id] = (ItemStatus.DONE.value, None, None)
        elif rec is None:
            outcomes[item.id] = (ItemStatus.FAILED.value, "服务记录已不存在", None)
        else:
            data = notice_data(rec, code=new_code(), issue_date=issue_date, public_url=public_url)
            planned.append(
                Planned(notice_slot(item.term_id), data, batch.cohort_id, item.term_id, batch_id=batch.id)
            )
            todo.append(item)
    results = issue_many(session, archive, converter, planned, sealer=sealer)
    for item, result in zip(todo, results, strict=True):
        assert item.id is not None
        if isinstance(result, IssueError):
            outcomes[item.id] = (ItemStatus.FAILED.value, str(result)[:1000], None)
            log.warning("batch %s item %s failed", batch.id, item.id)
        else:
            outcomes[item.id] = (ItemStatus.DONE.value, None, result.id)
    finished = datetime.now(UTC)
    for item in rows:  # the claim token stays: it records which worker issued the item
        assert item.id is not None
        item.status, item.error, item.document_id = outcomes[item.id]
        item.attempts += 1
        item.finished_at = finished
    session.flush()


def failures(session: Session, batch_id: int, limit: int = 200) -> list[tuple[int, str]]:
    """(term id, reason) of the failed items, for the office to fix and retry."""
    rows = session.exec(
        select(BatchItem.term_id, BatchItem.error)
        .where(BatchItem.batch_id == batch_id, BatchItem.status == ItemStatus.FAILED.value)
        .order_by(col(BatchItem.id))
        .limit(limit)
    ).all()
    return [(term_id, error or "") for term_id, error in rows]


def batch_documents(session: Session, batch_id: int) -> list[Document]:
    """The live documents of the batch's cohort and kind, including those issued before the batch."""
    batch = get_batch(session, batch_id)
    return list(
        session.exec(
            select(Document)
            .where(
                Document.cohort_id == batch.cohort_id,
                Document.kind == batch.kind,
                col(Document.live_slot).is_not(None),
            )
            .order_by(col(Document.id))
        ).all()
    )
