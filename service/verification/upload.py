"""Validation by upload: is this PDF a genuine, complete, standing document of ours?

The bytes-only checks (signatures, structure, revisions, field ↔ signer binding against an
expected layout) are :mod:`signing.verify`; this module supplies what only the registry knows:

* which document it is: the revision before the first signature must be byte-identical to the
  archived rendered PDF (its SHA-256 is ``Document.rendered_sha256``), which finds the document
  at the same time; when nothing matches, the verification code printed in the file names the
  document, and the report says that its original content differs from the archive;
* the expected layout: the kind's signature fields in the recorded signing order, each with the
  certificate(s) registered for that party (the one the signing request records, else every
  certificate of the party: the region office's seal at issuance has no request);
* that every signed revision is byte for byte the archived one: a signature's CMS lies outside
  what it signs, so without this its unsigned parts could be rewritten and the file finished
  again with any TSA, our public one included;
* how many parties signed and whether the document is complete, so a file cut back to an earlier
  revision fails;
* whether it stands: not revoked, superseded, voided or declined.

Nothing raises out of :func:`verify_upload`: a file that cannot be read gives 无法验证 with the
reason, and an unexpected error gives 无法验证 too (logged), never 有效.
"""

from __future__ import annotations

import hashlib
import logging
import re
import subprocess
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlmodel import Session, col, select

from doc_templates.kinds import get_kind
from service.audit import service as audit
from service.audit.service import Actor, Event
from service.documents.codes import InvalidCode, normalize_code
from service.documents.sealing import SEALED_AT_ISSUANCE
from service.pki import service as pki
from service.pki.fields import field_name, role_label
from signing.validate import TrustSpec
from signing.verify import (
    CHECKS,
    Check,
    ExpectedField,
    ExpectedLayout,
    ParsedPdf,
    SignatureInfo,
    Unreadable,
    Verdict,
    parse_pdf,
    verify_parsed,
)
from storage.archive import Archive, ArchiveError
from storage.models import (
    Document,
    DocumentStatus,
    Organization,
    OrgKind,
    Post,
    RequestStatus,
    ServiceTerm,
    SignerCertificate,
    SigningRequest,
)

__all__ = ["REGISTRY_CHECKS", "DocumentRef", "UploadReport", "verify_upload"]

log = logging.getLogger(__name__)

#: Checks only the registry can answer, after :data:`signing.verify.CHECKS` in the report.
REGISTRY_CHECKS: dict[str, str] = {
    "registry": "文书已在本平台登记",
    "first_revision": "签署前的原始文件与存档原件完全一致",
    "archived_revisions": "各签名版本与存档逐字节一致",
    "status": "文书未被撤销或替代",
}
ALL_CHECKS: dict[str, str] = {**CHECKS, **REGISTRY_CHECKS}

_CODE_IN_TEXT = re.compile(
    r"/v/([0-9A-Za-z]{4}(?:-[0-9A-Za-z]{4}){3})|验证码[：:]\s*([0-9A-Za-z]{4}(?:-[0-9A-Za-z]{4}){3})"
)
_CHINA = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class DocumentRef:
    """The registered document the file claims to be (public facts only)."""

    id: int
    kind: str
    title: str
    number: str
    status: str


@dataclass(frozen=True)
class UploadReport:
    verdict: Verdict
    checks: tuple[Check, ...]
    sha256: str
    """SHA-256 of the uploaded file."""
    document: DocumentRef | None = None
    signatures: tuple[SignatureInfo, ...] = ()

    def failed(self) -> list[str]:
        """Codes of the checks that failed."""
        return [c.code for c in self.checks if not c.passed]


def _unverifiable(sha: str, reason: str) -> UploadReport:
    return UploadReport(Verdict.UNVERIFIABLE, (Check("readable", CHECKS["readable"], False, reason),), sha)


def verify_upload(
    session: Session,
    archive: Archive,
    data: bytes,
    *,
    trust: TrustSpec | None = None,
    actor: Actor | None = None,
) -> UploadReport:
    """Every check on ``data``; with ``actor``, a ``verified`` event goes on the document's trail.

    The caller commits (the audit event is the only write).
    """
    sha = hashlib.sha256(data).hexdigest()
    try:
        report = _verify(session, archive, data, sha, trust)
    except Exception:  # a crafted file must never become a 500, nor "valid"
        log.exception("upload verification failed unexpectedly")
        return _unverifiable(sha, "验证过程中出现异常，无法验证该文件")
    if actor is not None and report.document is not None:
        _record(session, report, actor)
    return report


def _verify(
    session: Session, archive: Archive, data: bytes, sha: str, trust: TrustSpec | None
) -> UploadReport:
    parsed = parse_pdf(data)
    if isinstance(parsed, Unreadable):
        return _unverifiable(sha, parsed.reason)
    doc, matched_end = _find(session, archive, parsed)
    layout = _layout(session, doc) if doc is not None else None
    result = verify_parsed(
        parsed, trust or pki.trust(), layout, missing_layout="未在登记簿中找到该文书，无法核对签署方"
    )
    if result.unverifiable is not None:
        return _unverifiable(sha, result.unverifiable)
    checks = (*result.checks, *_registry_checks(session, archive, parsed, doc, matched_end))
    verdict = Verdict.VALID if all(c.passed for c in checks) else Verdict.INVALID
    ref = None
    if doc is not None:
        assert doc.id is not None
        ref = DocumentRef(doc.id, doc.kind, get_kind(doc.kind).title, doc.number, doc.status)
    return UploadReport(verdict, checks, sha, ref, result.signatures)


# ---------------------------------------------------------------------------------------------
# Which document is it?


def _find(session: Session, archive: Archive, parsed: ParsedPdf) -> tuple[Document | None, int | None]:
    """The registered document and where its rendered PDF ends in the file (None if not byte-equal).

    Every revision end before the first signature is a candidate for "the rendered PDF"; a
    legitimate file has exactly one. Matching by hash finds the document and proves the first
    revision identical in one indexed-free query over a handful of candidates.
    """
    candidates = {hashlib.sha256(parsed.data[:end]).hexdigest(): end for end in parsed.unsigned_ends}
    if candidates:
        doc = session.exec(
            select(Document).where(col(Document.rendered_sha256).in_(list(candidates)))
        ).first()
        if doc is not None and archive.path_for(doc.rendered_sha256).exists():
            return doc, candidates[doc.rendered_sha256]
    code = _printed_code(parsed.data[: parsed.unsigned_end or len(parsed.data)])
    if code is None:
        return None, None
    doc = session.exec(select(Document).where(Document.verification_code == code)).first()
    return doc, None


def _printed_code(pdf: bytes) -> str | None:
    """The verification code printed in the file (text or the QR caption), if any.

    Only used when no revision matches the archive, i.e. for files that are going to fail: it
    lets the report say *which* document's original was altered instead of "not found".
    """
    try:
        text = subprocess.run(
            ["pdftotext", "-q", "-l", "3", "-", "-"], input=pdf, capture_output=True, timeout=20, check=False
        ).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.TimeoutExpired):
        return None
    for m in _CODE_IN_TEXT.finditer(text):
        try:
            return normalize_code(m.group(1) or m.group(2))
        except InvalidCode:
            continue
    return None


# ---------------------------------------------------------------------------------------------
# What the registry expects


def _der(record: SignerCertificate) -> bytes:
    # An imported PKCS#12's cert_pem holds the leaf, then the chain it came with: the leaf signs.
    return x509.load_pem_x509_certificates(record.cert_pem.encode())[0].public_bytes(Encoding.DER)


def _party_certificates(
    session: Session, doc: Document, parties: list[str]
) -> dict[str, list[SignerCertificate]]:
    """Every certificate registered to each party of ``doc`` (looked up, never created)."""
    term = session.get(ServiceTerm, doc.term_id) if doc.term_id is not None else None
    post = session.get(Post, term.post_id) if term is not None else None
    owners: dict[str, tuple[str, int | None]] = {}
    for party in parties:
        if party == "volunteer":
            owners[party] = ("volunteer", term.volunteer_id if term is not None else None)
        elif party == "unit":
            owners[party] = ("organization", post.unit_id if post is not None else None)
        elif party == "county_office" and post is not None:
            org = session.exec(
                select(Organization.id).where(
                    Organization.kind == OrgKind.COUNTY_OFFICE.value,
                    Organization.league == post.league,
                    Organization.county == post.county,
                )
            ).first()
            owners[party] = ("organization", org)
        elif party == "region_office":
            org = session.exec(
                select(Organization.id).where(Organization.kind == OrgKind.REGION_OFFICE.value)
            ).first()
            owners[party] = ("organization", org)
        else:
            owners[party] = ("organization", None)
    found: dict[str, list[SignerCertificate]] = {}
    for party, (what, owner) in owners.items():
        if owner is None:
            found[party] = []
            continue
        column = SignerCertificate.volunteer_id if what == "volunteer" else SignerCertificate.organization_id
        found[party] = list(session.exec(select(SignerCertificate).where(column == owner)).all())
    return found


def _layout(session: Session, doc: Document) -> ExpectedLayout:
    kind = get_kind(doc.kind)
    requests = list(
        session.exec(
            select(SigningRequest)
            .where(SigningRequest.document_id == doc.id)
            .order_by(col(SigningRequest.position))
        ).all()
    )
    parties = [r.party for r in requests] if requests else list(kind.parties)
    by_party = {r.party: r for r in requests}
    pinned = {r.certificate_id for r in requests if r.certificate_id is not None}
    certs: dict[int, SignerCertificate] = {}
    if pinned:
        certs = {
            c.id: c
            for c in session.exec(
                select(SignerCertificate).where(col(SignerCertificate.id).in_(pinned))
            ).all()
            if c.id is not None
        }
    unpinned = [p for p in parties if p not in by_party or by_party[p].certificate_id is None]
    registered = _party_certificates(session, doc, unpinned) if unpinned else {}
    fields = []
    for party in parties:
        req = by_party.get(party)
        if req is not None and req.certificate_id is not None:
            records = [certs[req.certificate_id]] if req.certificate_id in certs else []
        else:
            records = registered.get(party, [])
        fields.append(
            ExpectedField(field_name(party), role_label(kind, party), frozenset(_der(c) for c in records))
        )
    if requests:
        signed = sum(r.status == RequestStatus.SIGNED.value for r in requests)
        complete = doc.signing_state == "completed"
    else:
        sealed = doc.kind in SEALED_AT_ISSUANCE and not doc.signing_state
        signed, complete = (len(parties), True) if sealed else (0, False)
    return ExpectedLayout(tuple(fields), signed, complete)


# ---------------------------------------------------------------------------------------------
# Registry checks


def _when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo("UTC"))
    return aware.astimezone(_CHINA).strftime("%Y年%m月%d日")


def _registry_checks(
    session: Session, archive: Archive, parsed: ParsedPdf, doc: Document | None, matched_end: int | None
) -> list[Check]:
    def check(code: str, passed: bool, reason: str) -> Check:
        return Check(code, REGISTRY_CHECKS[code], passed, reason)

    if doc is None:
        missing = "未在本平台登记簿中找到该文书：它不是本平台签发的文书，或其原始内容已被改动"
        return [
            check("registry", False, missing),
            check("first_revision", False, "没有登记的原件可供比对"),
            check("archived_revisions", False, "没有登记的存档版本可供比对"),
            check("status", False, "没有登记记录，无法确认文书状态"),
        ]
    title = get_kind(doc.kind).title
    out = [check("registry", True, f"{title}（编号{doc.number}）由本平台签发并登记")]
    if matched_end is None:
        out.append(
            check(
                "first_revision", False, f"文件中签署前的原始内容与存档的{title}原件不一致：文件内容被改动过"
            )
        )
    elif matched_end != parsed.unsigned_end and parsed.format_problems:
        # A signature that cannot be taken apart hides where signing began.
        out.append(check("first_revision", False, "文件中有无法解析的签名，无法确定签署前的原始内容"))
    elif matched_end != parsed.unsigned_end:
        out.append(check("first_revision", False, "存档原件之后、第一个签名之前还有未登记的修改"))
    else:
        out.append(check("first_revision", True, "第一个签名之前的文件内容与存档原件逐字节一致"))
    out.append(_archived_revisions_check(archive, parsed, doc))
    out.append(_status_check(session, doc, title))
    return out


def _archived_revisions_check(archive: Archive, parsed: ParsedPdf, doc: Document) -> Check:
    """Each signature's revision, its CMS included, as archived: the archive's newest state holds
    every earlier one as its prefix (revisions are incremental updates), so one comparison each."""

    def check(passed: bool, reason: str) -> Check:
        return Check("archived_revisions", REGISTRY_CHECKS["archived_revisions"], passed, reason)

    regular = [s for s in parsed.signed if not s.doc_ts]
    if not regular:
        return check(False, "文件中没有签名版本可供比对")
    try:
        current = archive.get(doc.current_sha256)
    except ArchiveError:
        log.error("archived state %s of document %s is missing or damaged", doc.current_sha256, doc.id)
        return check(False, "存档版本缺失或损坏，无法比对")
    for sig in regular:
        end = parsed.revision_ends[sig.revision] if 0 <= sig.revision < len(parsed.revision_ends) else None
        if end is None or end > len(current) or parsed.data[:end] != current[:end]:
            return check(False, f"签名域“{sig.name}”所在的版本与存档不一致：签名数据在签署后被改写过")
    return check(True, f"{len(regular)}个签名版本（含签名数据）与存档逐字节一致")


def _status_check(session: Session, doc: Document, title: str) -> Check:
    def check(passed: bool, reason: str) -> Check:
        return Check("status", REGISTRY_CHECKS["status"], passed, reason)

    when = _when(doc.status_changed_at)
    if doc.status == DocumentStatus.REVOKED.value:
        return check(False, f"该{title}已于{when}被撤销，原因：{doc.status_reason or '未说明'}")
    if doc.status == DocumentStatus.SUPERSEDED.value:
        successor = session.get(Document, doc.superseded_by_id) if doc.superseded_by_id else None
        new = f"（新版本编号{successor.number}）" if successor is not None else ""
        return check(False, f"该{title}已于{when}被新版本替代{new}，原因：{doc.status_reason or '未说明'}")
    if doc.status != DocumentStatus.ISSUED.value:
        return check(False, f"该{title}状态为“{doc.status}”，不是有效状态")
    if doc.signing_state == "voided":
        return check(False, f"该{title}的签署已作废")
    if doc.signing_state == "declined":
        return check(False, f"该{title}已被拒签")
    return check(True, f"该{title}现行有效，未被撤销或替代")


def _record(session: Session, report: UploadReport, actor: Actor) -> None:
    """One ``verified`` event, under the document's row lock (audit events are numbered under it)."""
    from service.agreements.service import lock_document

    assert report.document is not None
    try:
        lock_document(session, report.document.id)
        audit.record(
            session,
            report.document.id,
            Event.VERIFIED,
            actor,
            hash_after=report.sha256,
            detail=f"上传文件验证：{report.verdict.value}"
            + (f"（未通过：{'、'.join(report.failed())}）" if report.failed() else ""),
        )
    except Exception:  # the trail must not turn a verification into an error for the verifier
        log.exception("could not record the verification of document %s", report.document.id)
        session.rollback()
