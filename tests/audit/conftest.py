"""Issued documents with an audit trail, on the real LibreOffice pool and our CA."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from service.audit import service as audit
from service.documents import service as documents
from storage.archive import Archive
from storage.models import Document, ServiceTerm
from tests.documents.conftest import archive, converter, load_cohort  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _pki(pki_ready: object) -> object:
    return pki_ready


def issue_with_trail(
    engine: object, store: Archive, pool: object, kind: str = "notice", count: int = 1
) -> list[int]:
    """``count`` documents of ``kind``, each with created → sent → viewed → downloaded events."""
    load_cohort(engine, count, seed=53)
    ids = []
    with Session(engine) as session:  # type: ignore[call-overload]
        for term in session.exec(select(ServiceTerm)).all():
            assert term.id is not None
            doc: Document = documents.issue_one(session, store, pool, kind, term.id, year=1)  # type: ignore[arg-type]
            assert doc.id is not None
            audit.record(session, doc.id, audit.Event.CREATED, hash_after=doc.current_sha256)
            audit.record(
                session, doc.id, audit.Event.SENT, audit.Actor("县项目办 张三"), detail="短信 139****0001"
            )
            audit.record(session, doc.id, audit.Event.VIEWED, audit.Actor("志愿者", ip="10.0.0.8"))
            audit.record(session, doc.id, audit.Event.DOWNLOADED, audit.Actor("志愿者", ip="10.0.0.8"))
            ids.append(doc.id)
        session.commit()
    return ids
