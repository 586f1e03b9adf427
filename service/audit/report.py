"""签署报告: one signed PDF that tells a reader, without our database, who signed what and when.

A signed agreement proves itself to a PDF viewer, but not the story around it: who was sent
which link, who declined, which certificate stood for whom. The report lists the document and
its hashes, every party with its signer, certificate serial and TSA time (Asia/Shanghai), and
every audit event with its chain hash; the region office certifies it (DocMDP "no changes")
and it is finished to B-LTA like the documents it describes.

The signer, serial and time come from validating the PDF itself, not from our rows: the
report must not say someone signed when the file says otherwise.

It is built as DOCX (python-docx, the template helpers' fonts) and converted by the same
LibreOffice pool, so the region office's field sits at an anchor like every other field.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cryptography.x509.oid import NameOID
from docx.shared import Mm
from sqlmodel import Session, col, select

from doc_templates.anchors import AnchorsMissing, find_anchors
from doc_templates.authoring.docx_kit import (
    BODY,
    CENTER,
    HEADING,
    LEFT,
    TITLE,
    anchor,
    new_document,
    para,
    run,
)
from doc_templates.kinds import PARTY_TITLES, get_kind
from service.audit import service as audit
from service.config import get_settings
from service.documents.converter import Converter
from service.errors import NotFound
from service.labels import document_status, event_label, request_status
from service.organizations.service import region_office
from service.pki import service as pki
from service.pki.fields import field_for, field_name, role_label
from signing import SignatureStatus, StampSpec, finish_lta, sign_pdf, validate_pdf
from storage.archive import Archive
from storage.models import AuditEvent, Document, DocumentRevision, SignerCertificate, SigningRequest

__all__ = ["REPORT_PARTY", "attach_report", "latest_report", "signing_report"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
REPORT_PARTY = "region_office"
MONO = "DejaVu Sans Mono"  # hashes and serials: every character the same width, nothing ambiguous


@dataclass(frozen=True)
class PartyLine:
    """One party as the report prints it."""

    role: str
    signer: str
    serial: str
    signed_at: str
    state: str


def _cst(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _common_name(sig: SignatureStatus) -> str:
    from cryptography.x509 import Name

    try:
        name = Name.from_rfc4514_string(sig.signer_subject)
        return str(name.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
    except (ValueError, IndexError):
        return sig.signer_subject or "—"


def _parties(session: Session, doc: Document, signatures: dict[str, SignatureStatus]) -> list[PartyLine]:
    kind = get_kind(doc.kind)
    requests = {
        r.party: r
        for r in session.exec(select(SigningRequest).where(SigningRequest.document_id == doc.id)).all()
    }
    lines = []
    for party in kind.parties:
        sig = signatures.get(field_name(party))
        req = requests.get(party)
        if sig is not None:
            state = "签名有效" if sig.ok else f"签名无效：{sig.problem or '未通过验证'}"
            if sig.revoked:
                state = "证书已吊销"
            serial = f"{sig.signer_serial:x}" if sig.signer_serial is not None else "—"
            lines.append(
                PartyLine(role_label(kind, party), _common_name(sig), serial, _cst(sig.signing_time), state)
            )
            continue
        cert = session.get(SignerCertificate, req.certificate_id) if req and req.certificate_id else None
        state = request_status(req.status) if req else "未签署"
        if req is not None and req.decline_reason:
            state += f"（{req.decline_reason}）"
        lines.append(PartyLine(role_label(kind, party), "—", cert.serial if cert else "—", "—", state))
    return lines


def _cell(cell: object, text: str, *, font: str = BODY, size: float = 9, bold: bool = False) -> None:
    run(cell.paragraphs[0], text, font=font, size=size, bold=bold)  # type: ignore[attr-defined]


def _table(doc: object, header: list[str], rows: list[list[tuple[str, str]]], widths: list[float]) -> None:
    """A bordered table; each cell is (font, text) so hashes can be monospaced."""
    table = doc.add_table(rows=1 + len(rows), cols=len(header))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    for i, title in enumerate(header):
        _cell(table.rows[0].cells[i], title, font=HEADING, bold=True)
    for r, row in enumerate(rows, start=1):
        for c, (font, text) in enumerate(row):
            _cell(table.rows[r].cells[c], text, font=font, size=8 if font == MONO else 9)
    for c, width in enumerate(widths):
        for row_obj in table.rows:
            row_obj.cells[c].width = Mm(width)


def _report_docx(
    doc: Document,
    parties: list[PartyLine],
    revisions: list[DocumentRevision],
    events: list[AuditEvent],
    generated: datetime,
) -> bytes:
    kind = get_kind(doc.kind)
    d = new_document(top=20, bottom=18, left=18, right=18, title="签署报告")
    para(d, "签 署 报 告", font=TITLE, size=22, align=CENTER, after=6)
    para(d, f"{kind.title}　{doc.number}", size=12, align=CENTER, after=10)

    para(d, "一、文书", font=HEADING, size=12, align=LEFT, before=4, after=4)
    facts = [
        ("文书类型", kind.title),
        ("编号", doc.number),
        ("核验码", doc.verification_code),
        ("状态", document_status(doc.status)),
        ("签发时间", _cst(doc.created_at)),
        ("原始文件 SHA-256", doc.rendered_sha256),
        ("当前文件 SHA-256", doc.current_sha256),
    ]
    _table(d, ["项目", "内容"], [[(BODY, k), (MONO if "SHA" in k else BODY, v)] for k, v in facts], [40, 134])

    para(d, "二、签署各方", font=HEADING, size=12, align=LEFT, before=10, after=4)
    _table(
        d,
        ["签署方", "签署人", "证书序列号", "签署时间（北京时间）", "状态"],
        [
            [(BODY, p.role), (BODY, p.signer), (MONO, p.serial), (BODY, p.signed_at), (BODY, p.state)]
            for p in parties
        ],
        [34, 40, 42, 30, 28],
    )

    para(d, "三、文件版本", font=HEADING, size=12, align=LEFT, before=10, after=4)
    _table(
        d,
        ["序号", "说明", "SHA-256"],
        [[(BODY, str(r.seq)), (BODY, r.reason), (MONO, r.sha256)] for r in revisions],
        [14, 40, 120],
    )

    para(d, "四、审计记录", font=HEADING, size=12, align=LEFT, before=10, after=4)
    _table(
        d,
        ["序号", "事件", "时间（北京时间）", "操作者", "记录哈希"],
        [
            [
                (BODY, str(e.seq)),
                (BODY, event_label(e.event)),
                (BODY, _cst(e.at)),
                (BODY, e.actor),
                (MONO, e.hash),
            ]
            for e in events
        ],
        [12, 26, 32, 34, 70],
    )
    para(
        d,
        "每条审计记录的哈希都包含前一条记录的哈希，删除、插入或改动任何一条都会使其后的哈希对不上。"
        f"本报告生成于{_cst(generated)}，由自治区项目办电子签章；"
        f"根证书见 {get_settings().public_url.rstrip('/')}/pki/root.pem。",
        size=10,
        before=10,
        after=6,
    )
    para(d, "自治区项目办（电子签章）", size=12, align=CENTER, before=6, keep_next=True)
    anchor(d, REPORT_PARTY, before=34, after=34)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def signing_report(
    session: Session,
    document_id: int,
    *,
    archive: Archive | None = None,
    converter: Converter | None = None,
) -> bytes:
    """The signed report PDF for one document, as things stand now (nothing is stored)."""
    doc = session.get(Document, document_id)
    if doc is None:
        raise NotFound(f"文书{document_id}不存在")
    if archive is None:
        archive = Archive.at(get_settings().data_dir)
    if converter is None:
        from service.documents.converter import shared_converter

        converter = shared_converter()
    trust = pki.trust()
    status = validate_pdf(archive.get(doc.current_sha256), trust)
    signatures = {s.field_name: s for s in status.signatures}
    revisions = list(
        session.exec(
            select(DocumentRevision)
            .where(DocumentRevision.document_id == document_id)
            .order_by(col(DocumentRevision.seq))
        ).all()
    )
    generated = datetime.now(UTC)
    docx = _report_docx(
        doc, _parties(session, doc, signatures), revisions, audit.events(session, document_id), generated
    )
    pdf = converter.convert(docx, f"report-{document_id}.docx")
    found = find_anchors(pdf)
    if REPORT_PARTY not in found:
        raise AnchorsMissing("report", [REPORT_PARTY])
    office = region_office(session)
    _record, signer = pki.signer_for(session, organization=office)
    tsa = pki.timestamper()
    stamp = StampSpec(role=PARTY_TITLES[REPORT_PARTY], signer_name=office.name)
    signed = sign_pdf(
        pdf,
        signer,
        field_for(REPORT_PARTY, found[REPORT_PARTY]),
        timestamper=tsa,
        certify=True,
        stamp=stamp,
        fonts=pki.stamp_fonts(),
    )
    return finish_lta(signed, trust, timestamper=tsa)


def attach_report(session: Session, archive: Archive, converter: Converter, document_id: int) -> str:
    """Build, archive and record the report (call it once all parties have signed); returns its SHA-256.

    Recorded as an audit event ``reported`` whose ``hash_after`` is the report's key, not as a
    DocumentRevision: revisions are states of the document's own PDF, and a report is another file.
    The event makes the report part of the hash chain, and ``xibu archive check`` covers it.
    """
    key = archive.put(signing_report(session, document_id, archive=archive, converter=converter))
    audit.record(session, document_id, audit.Event.REPORTED, hash_after=key, detail="签署报告")
    return key


def latest_report(session: Session, document_id: int) -> str | None:
    """The archive key of the newest recorded report, if any."""
    ev = session.exec(
        select(AuditEvent)
        .where(AuditEvent.document_id == document_id, AuditEvent.event == audit.Event.REPORTED.value)
        .order_by(col(AuditEvent.seq).desc())
    ).first()
    return ev.hash_after if ev else None
