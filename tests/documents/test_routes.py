"""The documents API end to end: a batch started over HTTP is done by a real worker process."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from service.organizations.service import county_office
from storage.models import BatchItem, Document, Post, Role
from tests.api.factories import auth, create_login
from tests.documents.conftest import COHORT, load_cohort

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def workers(engine):
    """Two ``xibu worker`` processes, as production runs them (on PostgreSQL: the queue is in the database)."""
    env = {**os.environ, "XIBU_CONVERTERS": "1"}
    procs = [
        subprocess.Popen([sys.executable, "-m", "service", "worker"], cwd=REPO, env=env) for _ in range(2)
    ]
    yield procs
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _admin(engine) -> dict[str, str]:
    with Session(engine) as session:
        user = create_login(session, Role.REGION_ADMIN)
        session.commit()
        return auth(user)


def test_batch_over_http_with_workers_progress_and_zip(engine, client, workers) -> None:
    load_cohort(engine, 120, seed=21)
    headers = _admin(engine)
    started = client.post("/api/v1/documents/batches", json={"cohort": COHORT}, headers=headers)
    assert started.status_code == 202, started.text
    batch = started.json()
    assert batch["total"] == 120
    deadline = time.monotonic() + 300
    while batch["status"] != "finished" and time.monotonic() < deadline:
        time.sleep(0.5)
        batch = client.get(f"/api/v1/documents/batches/{batch['batch_id']}", headers=headers).json()
    assert (batch["status"], batch["done"], batch["failed"]) == ("finished", 120, 0)
    with Session(engine) as session:
        items = session.exec(select(BatchItem).where(BatchItem.batch_id == batch["batch_id"])).all()
        per_term = session.exec(select(Document.term_id, func.count()).group_by(Document.term_id)).all()
    assert {n for _, n in per_term} == {1} and len(per_term) == 120
    assert {i.attempts for i in items} == {1}, "no document was issued twice"
    claimants = {(i.claim_token or "").rsplit(":", 1)[0] for i in items}
    assert len(claimants) == 2, "both workers took part in the batch"

    archive = client.get(f"/api/v1/documents/batches/{batch['batch_id']}/zip", headers=headers)
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zf:
        names = zf.namelist()
        assert len(names) == 120 and all(n.endswith(".pdf") for n in names)
        assert all(zf.read(n).startswith(b"%PDF") for n in names)

    # A second start does not issue anything twice.
    again = client.post("/api/v1/documents/batches", json={"cohort": COHORT}, headers=headers).json()
    assert again["batch_id"] == batch["batch_id"] and again["done"] == 120


def test_documents_are_scoped_and_revocable(engine, client, converter) -> None:
    from service.config import get_settings
    from service.documents import service
    from service.documents.converter import PoolConverter
    from storage.archive import Archive

    load_cohort(engine, 4, seed=22)
    archive = Archive.at(get_settings().data_dir)
    with Session(engine, expire_on_commit=False) as session:
        posts = session.exec(select(Post)).all()
        docs = []
        for post in posts[:2]:
            from storage.models import ServiceTerm

            term = session.exec(select(ServiceTerm).where(ServiceTerm.post_id == post.id)).first()
            assert term is not None and term.id is not None
            docs.append(service.issue_one(session, archive, converter, "notice", term.id))
        own_office = county_office(session, posts[0].league, posts[0].county)
        county_user = create_login(session, Role.COUNTY_OFFICE, organization=own_office)
        session.commit()
        mine, theirs = docs[0].id, docs[1].id
        county_headers = auth(county_user)
    assert isinstance(converter, PoolConverter)
    assert client.get(f"/api/v1/documents/{mine}", headers=county_headers).status_code == 200
    pdf = client.get(f"/api/v1/documents/{mine}/pdf", headers=county_headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert posts[0].county != posts[1].county
    assert client.get(f"/api/v1/documents/{theirs}", headers=county_headers).status_code == 404
    assert client.get(f"/api/v1/documents/{theirs}/pdf", headers=county_headers).status_code == 404
    # Only the region office revokes, and a reason is required.
    assert (
        client.post(
            f"/api/v1/documents/{mine}/revoke", json={"reason": "x"}, headers=county_headers
        ).status_code
        == 403
    )
    headers = _admin(engine)
    assert (
        client.post(f"/api/v1/documents/{mine}/revoke", json={"reason": ""}, headers=headers).status_code
        == 422
    )
    revoked = client.post(f"/api/v1/documents/{mine}/revoke", json={"reason": "信息有误"}, headers=headers)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    with Session(engine) as session:
        doc = session.get(Document, mine)
        assert doc is not None and doc.live_slot is None and doc.status_reason == "信息有误"


def test_template_upload_over_http_is_checked_before_activation(engine, client) -> None:
    import docx

    from doc_templates.kinds import NOTICE

    headers = _admin(engine)
    listed = client.get("/api/v1/templates?kind=notice", headers=headers).json()
    assert [t["active"] for t in listed] == [True]
    refused = client.post(
        "/api/v1/templates/notice", files={"file": ("t.docx", b"PK\x03\x04 not really", "application/octet-stream")},
        headers=headers,
    )  # fmt: skip
    assert refused.status_code == 422 and refused.headers["content-type"].startswith(
        "application/problem+json"
    )
    document = docx.Document(str(NOTICE.template_path))
    document.add_paragraph("{{ volunteer.name }}同学：请按时报到。")
    buffer = io.BytesIO()
    document.save(buffer)
    accepted = client.post(
        "/api/v1/templates/notice", files={"file": ("notice-v2.docx", buffer.getvalue(), "application/octet-stream")},
        headers=headers,
    )  # fmt: skip
    assert accepted.status_code == 201, accepted.text
    versions = client.get("/api/v1/templates?kind=notice", headers=headers).json()
    assert [(t["sha256"] == accepted.json()["sha256"], t["active"]) for t in versions] == [
        (False, False),
        (True, True),
    ]
    county = client.post("/api/v1/templates/notice", files={"file": ("x.docx", b"x")}, headers={})
    assert county.status_code == 401
