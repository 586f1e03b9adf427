"""Two submissions at the same moment: serialised per document, no signature lost, the file stays valid.

Runs on SQLite and, with XIBU_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlmodel import Session, select

from service.agreements import signer
from service.audit.service import Actor, verify_chain
from service.errors import AppError
from service.pki.service import trust
from signing import validate_pdf
from storage.archive import Archive
from storage.models import Document, DocumentRevision, SigningRequest
from tests.agreements.conftest import World, create_via_api, latest_code, tokens


def _race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together by a barrier; returns each result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # collected and asserted on below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _state(engine: object, doc_id: int) -> tuple[Document, list[SigningRequest], list[DocumentRevision]]:
    with Session(engine) as session:  # type: ignore[call-overload]
        doc = session.get(Document, doc_id)
        assert doc is not None
        reqs = list(session.exec(select(SigningRequest).where(SigningRequest.document_id == doc_id)
                                 .order_by(SigningRequest.position)))  # fmt: skip
        revs = list(session.exec(select(DocumentRevision).where(DocumentRevision.document_id == doc_id)
                                 .order_by(DocumentRevision.seq)))  # fmt: skip
        assert verify_chain(session, doc_id) == []
        return doc, reqs, revs


def _signature_fields(archive: Archive, doc: Document) -> list[str]:
    status = validate_pdf(archive.get(doc.current_sha256), trust())
    assert all(s.intact and s.valid and s.modifications_ok for s in status.signatures), status
    return [s.field_name for s in status.signatures]


def test_the_same_party_twice_at_once_signs_once(
    client: Any, world: World, engine: object, archive: Archive
) -> None:
    created = create_via_api(client, world)
    doc_id, token = created["agreement"]["id"], tokens(created)["county_office"]
    assert client.post(f"/api/v1/signing/{token}/code").status_code == 202
    code = latest_code(doc_id, "county_office")

    def submit() -> int:
        return int(client.post(f"/api/v1/signing/{token}/sign", json={"code": code}).status_code)

    statuses = _race(submit, submit)
    assert sorted(statuses) == [200, 410], statuses
    doc, reqs, revs = _state(engine, doc_id)
    assert doc.version == 2 and [r.status for r in reqs] == ["signed", "open", "waiting"]
    assert [r.reason for r in revs] == ["rendered", "signed:county_office"]
    assert _signature_fields(archive, doc) == ["sig_county_office"]


def test_two_parties_at_once_lose_no_signature(
    world: World, engine: object, archive: Archive, client: Any
) -> None:
    """The county office (whose turn it is) and the unit (next) submit together from their accounts.

    Whichever order the lock grants, the county signs; the unit either is refused (409, it came
    first) or signs after it. Every accepted signature is in the file, each exactly once.
    """
    doc_id = create_via_api(client, world)["agreement"]["id"]

    def sign_as(org_id: int | None) -> str:
        assert org_id is not None
        with Session(engine, expire_on_commit=False) as session:  # type: ignore[call-overload]
            try:
                req = signer.sign_as_organization(session, archive, doc_id, org_id, Actor("并发测试"))
                session.commit()
                return req.party
            except AppError:
                session.rollback()
                raise

    results = _race(lambda: sign_as(world.county_office_id), lambda: sign_as(world.unit_id))
    assert results[0] == "county_office", results
    assert results[1] == "unit" or (isinstance(results[1], AppError) and results[1].status == 409), results
    signed = [r for r in results if isinstance(r, str)]
    doc, reqs, revs = _state(engine, doc_id)
    assert doc.version == 1 + len(signed)
    assert [r.reason for r in revs] == ["rendered", *[f"signed:{p}" for p in signed]]
    assert [r.status for r in reqs if r.status == "signed"] == ["signed"] * len(signed)
    assert _signature_fields(archive, doc) == [f"sig_{p}" for p in signed]


def test_many_submissions_by_every_party_at_once(
    world: World, engine: object, archive: Archive, client: Any
) -> None:
    """Three submissions each from the county office and the unit: exactly one signature each at most."""
    doc_id = create_via_api(client, world)["agreement"]["id"]

    def sign_as(org_id: int | None) -> str | None:
        assert org_id is not None
        with Session(engine, expire_on_commit=False) as session:  # type: ignore[call-overload]
            try:
                req = signer.sign_as_organization(session, archive, doc_id, org_id, Actor("并发测试"))
                session.commit()
                return req.party
            except AppError as exc:
                session.rollback()
                assert exc.status in (409, 410), exc.message
                return None

    calls = [lambda: sign_as(world.county_office_id)] * 3 + [lambda: sign_as(world.unit_id)] * 3
    results = _race(*calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    signed = [r for r in results if r]
    assert signed.count("county_office") == 1 and signed.count("unit") <= 1
    doc, _reqs, revs = _state(engine, doc_id)
    assert doc.version == 1 + len(signed)
    assert len(revs) == 1 + len(signed)
    assert _signature_fields(archive, doc) == ["sig_county_office"] + (
        ["sig_unit"] if "unit" in signed else []
    )
