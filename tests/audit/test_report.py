"""签署报告: a signed PDF that says what the document and its audit trail say, and nothing else."""

from __future__ import annotations

import io
import subprocess
import tempfile

from fastapi.testclient import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm
from sqlmodel import Session, select

from service.audit import service as audit
from service.audit.report import attach_report, signing_report
from service.organizations import service as orgs
from service.pki import service as pki
from service.pki.fields import fields_for, role_label
from signing import StampSpec, sign_pdf, validate_pdf
from storage.archive import Archive
from storage.cli import check_archive
from storage.models import AuditEvent, Document, RequestStatus, Role, SignerCertificate, SigningRequest
from tests.api.factories import auth, create_login

from .conftest import issue_with_trail


def pdf_text(pdf: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        out = subprocess.run(["pdftotext", f.name, "-"], capture_output=True, check=True).stdout
    return "".join(out.decode().split())  # cells wrap long hashes; compare without whitespace


def test_attached_report_is_certified_by_the_region_office_and_lists_document_parties_and_events(
    engine: object, archive: Archive, converter: object
) -> None:
    (doc_id,) = issue_with_trail(engine, archive, converter)
    with Session(engine) as session:  # type: ignore[call-overload]
        key = attach_report(session, archive, converter, doc_id)  # type: ignore[arg-type]
        session.commit()
        doc = session.get(Document, doc_id)
        events = audit.events(session, doc_id)
        office_cert = session.exec(select(SignerCertificate)).one()
        checked, problems = check_archive(session, archive)
    assert doc is not None
    assert [e.event for e in events][-1] == "reported" and events[-1].hash_after == key
    assert checked == 4 and problems == []  # template, rendered, sealed, report

    report = archive.get(key)
    status = validate_pdf(report, pki.trust())
    assert status.ok, status
    (sig,) = status.signatures
    assert sig.field_name == "sig_region_office" and sig.signer_serial == int(office_cert.serial, 16)
    assert status.doc_timestamps == 1
    (emb,) = PdfFileReader(io.BytesIO(report)).embedded_regular_signatures
    assert emb.docmdp_level == MDPPerm.NO_CHANGES  # certified: nothing may be added but LTV data

    text = pdf_text(report)
    for expected in (
        doc.number,
        doc.rendered_sha256,
        doc.current_sha256,
        office_cert.serial,
        "确认通知书",
        "签名有效",
    ):
        assert expected in text, expected
    for e in events[:-1]:  # the report lists the trail as it stood before its own event
        assert e.hash in text, f"event {e.seq}"
    assert "县项目办张三" in text and "发送签署链接" in text


def test_parties_come_from_the_pdf_and_the_signing_requests(
    engine: object, archive: Archive, converter: object
) -> None:
    """Agreement half-way: the county office has signed, the unit's turn, the volunteer waits."""
    (doc_id,) = issue_with_trail(engine, archive, converter, kind="agreement")
    with Session(engine) as session:  # type: ignore[call-overload]
        doc = session.get(Document, doc_id)
        assert doc is not None
        from doc_templates.kinds import get_kind

        kind = get_kind("agreement")
        pdf = archive.get(doc.current_sha256)
        fields = fields_for(kind, pdf)
        county = orgs.get_or_create(session, orgs.OrgKind.COUNTY_OFFICE, "测试旗项目办")[0]
        record, signer = pki.signer_for(session, organization=county)
        signed = sign_pdf(
            pdf, signer, fields[0], timestamper=pki.timestamper(), certify=True, later_fields=fields[1:],
            stamp=StampSpec(role_label(kind, "county_office"), county.name), fonts=pki.stamp_fonts(),
        )  # fmt: skip
        doc.current_sha256 = archive.put(signed)
        for pos, (party, state) in enumerate(
            (
                ("county_office", RequestStatus.SIGNED),
                ("unit", RequestStatus.OPEN),
                ("volunteer", RequestStatus.WAITING),
            )
        ):
            session.add(SigningRequest(document_id=doc_id, party=party, position=pos, status=state.value))
        session.flush()
        report = signing_report(session, doc_id, archive=archive, converter=converter)  # type: ignore[arg-type]
        session.rollback()
    text = pdf_text(report)
    assert "甲方（服务县项目办）" in text and "测试旗项目办" in text and record.serial in text
    assert "待签署" in text and "等待前序签署" in text
    assert text.count("签名有效") == 1


def test_report_endpoint_serves_the_archived_report_within_scope_only(
    engine: object, archive: Archive, converter: object, client: TestClient
) -> None:
    (doc_id,) = issue_with_trail(engine, archive, converter)
    with Session(engine, expire_on_commit=False) as session:  # type: ignore[call-overload]
        key = attach_report(session, archive, converter, doc_id)  # type: ignore[arg-type]
        admin = create_login(session, Role.REGION_ADMIN, organization=orgs.region_office(session))
        elsewhere = create_login(
            session, Role.COUNTY_OFFICE, organization=orgs.county_office(session, "阿拉善盟", "额济纳旗")
        )
        session.commit()
    r = client.get(f"/api/v1/documents/{doc_id}/report", headers=auth(admin))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content == archive.get(key)
    assert client.get(f"/api/v1/documents/{doc_id}/report", headers=auth(elsewhere)).status_code == 404
    assert client.get(f"/api/v1/documents/{doc_id}/report").status_code == 401
    with Session(engine) as session:  # type: ignore[call-overload]
        assert session.exec(select(AuditEvent).where(AuditEvent.event == "reported")).one().hash_after == key
