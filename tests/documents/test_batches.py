"""Batch issuance of notices: every volunteer once, resumable, bad records fail alone, workers share."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from service.demo.generate import generate_rows
from service.documents import batches
from service.documents.converter import PoolConverter
from storage.archive import Archive, sha256_hex
from storage.db import session_scope
from storage.models import BatchItem, Document, DocumentRevision, ServiceTerm
from tests.documents.conftest import COHORT, load_cohort

REPO = Path(__file__).resolve().parents[2]


def _start(engine: object) -> int:
    with Session(engine) as session:  # type: ignore[call-overload]
        batch = batches.start_batch(session, COHORT)
        session.commit()
        assert batch.id is not None
        return batch.id


def _notices_per_term(engine: object) -> dict[int, int]:
    with Session(engine) as session:  # type: ignore[call-overload]
        rows = session.exec(
            select(Document.term_id, func.count()).where(Document.kind == "notice").group_by(Document.term_id)
        ).all()
    return {t: n for t, n in rows if t is not None}


def test_batch_issues_one_archived_notice_per_volunteer(
    engine, converter: PoolConverter, archive: Archive
) -> None:
    load_cohort(engine, 10)
    batch_id = _start(engine)
    result = batches.run_batch(batch_id, converter, archive, chunk=4)
    assert (result.total, result.done, result.failed, result.status) == (10, 10, 0, "finished")
    assert set(_notices_per_term(engine).values()) == {1}
    with Session(engine) as session:  # type: ignore[call-overload]
        docs = session.exec(select(Document)).all()
        for doc in docs:
            pdf = archive.get(doc.current_sha256)
            assert pdf.startswith(b"%PDF") and sha256_hex(pdf) == doc.current_sha256
            assert doc.snapshot["kind"] == "notice"
            revisions = session.exec(
                select(DocumentRevision).where(DocumentRevision.document_id == doc.id)
            ).all()
            assert [r.sha256 for r in revisions] == [doc.rendered_sha256]
        assert len({d.verification_code for d in docs}) == 10

    # Running it again, or starting a new batch, issues nothing twice.
    again = batches.run_batch(batch_id, converter, archive)
    assert again.done == 10
    assert _start(engine) == batch_id
    assert set(_notices_per_term(engine).values()) == {1}


def test_one_bad_record_fails_alone_and_is_reported(
    engine, converter: PoolConverter, archive: Archive
) -> None:
    rows = generate_rows(5, seed=3, rare_every=0)
    rows[2]["姓名"] = "张\U000f0041"  # a private-use character no font can draw
    load_cohort(engine, 5, rows=rows)
    result = batches.run_batch(_start(engine), converter, archive)
    assert (result.done, result.failed) == (4, 1)
    with session_scope() as session:
        (failure,) = batches.failures(session, result.batch_id)
    assert "字体无法显示的字符" in failure[1] and "U+F0041" in failure[1]


def test_killed_batch_resumes_without_duplicates(engine) -> None:
    total = 60
    load_cohort(engine, total, seed=5)
    cmd = [sys.executable, "-m", "service", "issue", "notices", "--cohort", COHORT, "--json", "--chunk", "1"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and done < 2:
        time.sleep(0.02)
        with Session(engine) as session:  # type: ignore[call-overload]
            done = session.exec(select(func.count()).select_from(Document)).one()
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Session(engine) as session:  # type: ignore[call-overload]
        done = session.exec(select(func.count()).select_from(Document)).one()
    assert 2 <= done < total, "the batch should have been killed half-way"

    finish = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert finish.returncode == 0, finish.stderr
    assert f'"done": {total}' in finish.stdout
    per_term = _notices_per_term(engine)
    assert len(per_term) == total and set(per_term.values()) == {1}
    with Session(engine) as session:  # type: ignore[call-overload]
        statuses = set(session.exec(select(BatchItem.status)).all())
    assert statuses == {"done"}


def test_two_workers_share_one_batch(engine, tmp_path: Path) -> None:
    """Two processes run the same batch at once: every item once, and both did some of the work."""
    load_cohort(engine, 30, seed=9)
    batch_id = _start(engine)
    script = (
        "import sys, time, pathlib\n"
        "from service.config import get_settings\n"
        "from service.documents.batches import run_batch\n"
        "from service.documents.converter import shared_converter, close_shared_converter\n"
        "from storage.archive import Archive\n"
        "flags = pathlib.Path(sys.argv[1])\n"
        "try:\n"
        "    converter = shared_converter()\n"
        "    (flags / sys.argv[2]).touch()\n"
        "    while len(list(flags.iterdir())) < 2:  # start together, so both take part\n"
        "        time.sleep(0.05)\n"
        f"    run_batch({batch_id}, converter, Archive.at(get_settings().data_dir), chunk=3)\n"
        "finally:\n"
        "    close_shared_converter()\n"
    )
    env = {**os.environ, "XIBU_CONVERTERS": "1"}
    flags = tmp_path / "ready"
    flags.mkdir()
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(flags), str(n)], cwd=REPO, env=env)
        for n in range(2)
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    per_term = _notices_per_term(engine)
    assert len(per_term) == 30 and set(per_term.values()) == {1}
    with Session(engine) as session:  # type: ignore[call-overload]
        items = session.exec(select(BatchItem).where(BatchItem.batch_id == batch_id)).all()
        terms = session.exec(select(func.count()).select_from(ServiceTerm)).one()
    assert terms == 30
    assert all(i.status == "done" for i in items)
    assert max(i.attempts for i in items) == 1  # nothing was done twice
    workers = {(i.claim_token or "").rsplit(":", 1)[0] for i in items}
    assert len(workers) == 2, "both processes should have claimed part of the batch"


def test_claims_shrink_near_the_end_so_workers_finish_together() -> None:
    chunk = 50
    assert batches.tail_chunk(1315, 1, chunk) == chunk  # plenty left: full chunks
    assert batches.tail_chunk(0, 0, chunk) >= 1
    assert batches.tail_chunk(3, 1, chunk) == batches.MIN_TAIL_CHUNK  # claims take what is there
    # Two workers alternating over a batch: every claim within bounds, sizes never grow near the
    # end, and the last claims are small (a worker left alone at the end has little to do).
    pending, sizes = 1315, []
    while pending > 0:
        size = min(pending, batches.tail_chunk(pending, 1, chunk))
        assert batches.MIN_TAIL_CHUNK <= size <= chunk or size == pending
        sizes.append(size)
        pending -= size
    assert sum(sizes) == 1315
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[-1] <= batches.MIN_TAIL_CHUNK and sizes[-2] <= 2 * batches.MIN_TAIL_CHUNK
