"""Documents signed through the real online flow pass upload verification.

The other upload tests take their genuine documents from :mod:`tests.verification.corpus`, which
signs with real keys but writes the registry rows itself. Here nothing is mimicked: an office sends
each signed kind out over the API, every party signs the way people do (the link the outbox sent,
the code the outbox sent, or an organization's account), the service finishes the file to B-LTA,
and the file it hands out is uploaded to ``POST /api/v1/verify``. If the flow ever records
something the verifier reads differently (requests, certificates, revisions, field names, order),
a real document would be reported 无效: these tests say so.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from doc_templates.kinds import get_kind
from service.config import get_settings
from service.pki.fields import role_label
from service.pki.service import trust
from service.verification.upload import ALL_CHECKS
from signing import validate_pdf
from storage.archive import Archive
from storage.models import Document, DocumentRevision, SigningRequest
from tests.agreements.conftest import (  # noqa: F401  (_empty_outbox: fixture)
    World,
    _empty_outbox,
    create_via_api,
    make_world,
    record_grade,
    sent_link,
    sign_by_link,
    tokens,
)

DOCS = "/api/v1/signing-documents"

ORDERS = {
    "agreement": ["county_office", "unit", "volunteer"],
    "appraisal": ["volunteer", "unit", "county_office"],
    "evaluation": ["volunteer", "unit", "county_office", "region_office"],
}
#: Parties that sign from their organization's account instead of the link they were sent.
BY_ACCOUNT = {"agreement": set(), "appraisal": {"unit"}, "evaluation": {"county_office", "region_office"}}

_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


@pytest.fixture()
def world(engine: Engine) -> World:
    """The agreements tests' world: a volunteer, the unit, the offices and their logins."""
    return make_world(engine)


def _account(world: World, party: str) -> dict[str, str]:
    return {"unit": world.unit_user, "county_office": world.county_user, "region_office": world.admin}[party]


def _sign_everything(client: Any, world: World, kind: str) -> int:
    """Send ``kind`` out as an office does and have every party sign in turn; the document's id."""
    if kind != "agreement":
        record_grade(client, world)
    path = "/api/v1/agreements" if kind == "agreement" else DOCS
    created = create_via_api(client, world, path=path, kind=kind)
    doc_id = int(created["agreement"]["id"])
    order = ORDERS[kind]
    assert [p["party"] for p in created["agreement"]["parties"]] == order == list(get_kind(kind).parties)
    first = tokens(created)
    assert list(first) == [order[0]] and first[order[0]] == sent_link(doc_id, order[0])
    for i, party in enumerate(order):
        if party in BY_ACCOUNT[kind]:
            signed = client.post(f"{DOCS}/{doc_id}/sign", headers=_account(world, party))
        else:
            token = first[party] if i == 0 else sent_link(doc_id, party)
            signed = sign_by_link(client, doc_id, party, token)
        assert signed.status_code == 200, (party, signed.text)
        assert signed.json()["turn"] == (order[i + 1] if i + 1 < len(order) else None)
    assert signed.json()["signing_state"] == "completed"
    return doc_id


def _signed_range_byte(pdf: bytes) -> int:
    """A byte of the first revision's content, inside every signature's and the document
    timestamp's signed range, and inside a stream (so the file still parses: only digests break)."""
    ranges = [tuple(int(x) for x in m.groups()) for m in _BYTE_RANGE.finditer(pdf)]
    assert len(ranges) >= 2, "signatures and the document timestamp"
    pos = pdf.index(b"stream", pdf.index(b"/Length")) + 40
    for start, len1, _start2, _len2 in ranges:
        assert start <= pos < start + len1, "the byte must lie in each signed range"
    return pos


@pytest.mark.parametrize("kind", list(ORDERS))
def test_a_document_signed_through_the_real_flow_verifies(
    client: Any, world: World, engine: Engine, kind: str, tmp_path: Path
) -> None:
    doc_id = _sign_everything(client, world, kind)
    order = ORDERS[kind]
    kind_ = get_kind(kind)
    roles = [role_label(kind_, p) for p in order]

    pdf = client.get(f"{DOCS}/{doc_id}/pdf", headers=world.admin)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    with Session(engine) as session:
        doc = session.get(Document, doc_id)
        assert doc is not None and doc.signing_state == "completed"
        code, number = doc.verification_code, doc.number
        reasons = session.exec(
            select(DocumentRevision.reason)
            .where(DocumentRevision.document_id == doc_id)
            .order_by(col(DocumentRevision.seq))
        ).all()
        assert list(reasons) == ["rendered", *(f"signed:{p}" for p in order), "timestamped"]
        requests = session.exec(
            select(SigningRequest)
            .where(SigningRequest.document_id == doc_id)
            .order_by(col(SigningRequest.position))
        ).all()
        assert [(r.party, r.status) for r in requests] == [(p, "signed") for p in order]
        assert all(r.certificate_id is not None and r.signed_at is not None for r in requests)
        archived = Archive.at(Path(get_settings().data_dir)).get(doc.current_sha256)
    assert archived == pdf.content, "the download is the archived current revision"

    # (a) The upload verification: every one of the 17 checks passes.
    r = client.post("/api/v1/verify", files={"file": ("文书.pdf", pdf.content, "application/pdf")})
    assert r.status_code == 200, r.text
    body = r.json()
    statuses = {c["code"]: (c["passed"], c["reason"]) for c in body["checks"]}
    assert list(statuses) == list(ALL_CHECKS) and len(statuses) == 17
    for check, (passed, reason) in statuses.items():
        assert passed, f"{kind}: check {check} failed: {reason}"
    assert body["verdict"] == "有效" and body["valid"] is True
    assert body["document"] == {"kind": kind, "title": kind_.title, "number": number, "status": "issued"}
    assert [s["field"] for s in body["signatures"]] == [f"sig_{p}" for p in order] + [
        body["signatures"][-1]["field"]
    ]
    assert [s["party"] for s in body["signatures"]] == [*roles, "文档时间戳"]
    assert [s["doc_timestamp"] for s in body["signatures"]] == [False] * len(order) + [True]

    # The same file on the command line, as a verifier with the JSON report would run it.
    from typer.testing import CliRunner

    from service.cli import app

    saved = tmp_path / f"{kind}.pdf"
    saved.write_bytes(pdf.content)
    cli = CliRunner().invoke(app, ["verify", str(saved), "--json"])
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.stdout)["verdict"] == "有效"

    # (b) The public lookup lists the signers in the kind's order, each with when it signed.
    found = client.get(f"/api/v1/verify/{code}")
    assert found.status_code == 200, found.text
    statement = found.json()
    assert statement["status_code"] == "valid", statement["message"]
    assert [s["role"] for s in statement["signers"]] == roles
    assert all(s["status"] == "已签署" for s in statement["signers"]), statement["signers"]
    times = [datetime.fromisoformat(s["signed_at"]) for s in statement["signers"] if s["signed_at"]]
    assert len(times) == len(order) and times == sorted(times)
    assert all(s["timestamp"] and s["certificate_serial"] for s in statement["signers"])
    assert len(statement["document_timestamps"]) == 1

    # (c) One byte changed in the signed range of this very file: no longer valid.
    pos = _signed_range_byte(pdf.content)
    forged = pdf.content[:pos] + bytes([pdf.content[pos] ^ 0x20]) + pdf.content[pos + 1 :]
    r = client.post("/api/v1/verify", files={"file": ("文书.pdf", forged, "application/pdf")})
    assert r.status_code == 200, r.text
    assert r.json()["verdict"] == "无效" and r.json()["valid"] is False
    failed = {c["code"] for c in r.json()["checks"] if not c["passed"]}
    assert {"integrity", "first_revision"} <= failed, failed


def test_the_signing_report_of_a_real_flow_is_signed_and_served(client: Any, world: World) -> None:
    """Completion queues the 签署报告; once a worker has built it, the office downloads exactly
    that archived, validly signed report."""
    from service.audit.tasks import attach_signing_report
    from service.jobs import queue

    doc_id = _sign_everything(client, world, "appraisal")
    assert any(t.name == "audit.attach_report" and t.args == (doc_id,) for t in queue().pending())
    key = attach_signing_report.call_local(doc_id)
    r = client.get(f"/api/v1/documents/{doc_id}/report", headers=world.admin)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content == Archive.at(Path(get_settings().data_dir)).get(key)
    status = validate_pdf(r.content, trust())
    assert status.ok and status.doc_timestamps == 1, status
