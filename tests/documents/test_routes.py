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
from sqlmodel import Session, select

from service.organizations.service import county_office
from storage.models import Document, Post, Role
from tests.api.factories import auth, create_login
from tests.documents.conftest import COHORT, load_cohort

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def worker(engine):
    """``xibu worker`` as its own process, as production runs it."""
    proc = subprocess.Popen([sys.executable, "-m", "service", "worker"], cwd=REPO, env={**os.environ})
    yield proc
    proc.terminate()
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


def test_batch_over_http_with_worker_progress_and_zip(engine, client, worker) -> None:
    load_cohort(engine, 8, seed=21)
    headers = _admin(engine)
    started = client.post("/api/v1/documents/batches", json={"cohort": COHORT}, headers=headers)
    assert started.status_code == 202, started.text
    batch = started.json()
    assert batch["total"] == 8
    deadline = time.monotonic() + 180
    while batch["status"] != "finished" and time.monotonic() < deadline:
        time.sleep(0.5)
        batch = client.get(f"/api/v1/documents/batches/{batch['batch_id']}", headers=headers).json()
    assert (batch["status"], batch["done"], batch["failed"]) == ("finished", 8, 0)

    archive = client.get(f"/api/v1/documents/batches/{batch['batch_id']}/zip", headers=headers)
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zf:
        names = zf.namelist()
        assert len(names) == 8 and all(n.endswith(".pdf") for n in names)
        assert all(zf.read(n).startswith(b"%PDF") for n in names)

    # A second start does not issue anything twice.
    again = client.post("/api/v1/documents/batches", json={"cohort": COHORT}, headers=headers).json()
    assert again["batch_id"] == batch["batch_id"] and again["done"] == 8


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
