"""Lookup by code, for anyone: one indexed query per request; what it needs beyond that, once.

A lookup reads the document's registry row, its successor's code and the term's appraisals in
one query (SQLAlchemy Core, no ORM session: the public path is the busiest one), which the API
runs on the event loop on SQLite and, on PostgreSQL, in a thread, batched with the lookups
arriving alongside (:func:`query_async`). Everything those values determine, down to the JSON
bytes, is cached under the values themselves: the snapshot a document was rendered from never
changes, and the signature facts belong to the revision's SHA-256. A revocation, a supersession,
a new signature or a changed grade changes the row, so the next lookup builds afresh, in every
process, with nothing to invalidate.

Unknown and malformed codes take the same path: a malformed one is looked up as a code no
document can have (``U`` is not in the alphabet), so both cost one query and get the same answer.

No audit event per lookup: an anonymous, rate-limited read would add a write, and a document
lock, to every public request and let anyone grow a document's trail. Identity checks, which
concern the holder, are rare and strictly limited: those are recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from doc_templates.context import DocumentData
from doc_templates.kinds import get_kind
from doc_templates.snapshot import from_snapshot
from service.agreements.service import lock_document
from service.audit import service as audit
from service.audit.service import Actor, Event
from service.config import get_settings
from service.documents.codes import InvalidCode, normalize_code
from service.errors import AppError, NotFound
from service.labels import request_status
from service.pki.fields import role_label
from service.verification import batching, schemas, statement
from service.verification.cache import Lru
from service.verification.identity import identity_key, matches
from service.verification.masking import mask_name
from service.verification.query import Rows, for_engine
from service.verification.ratelimit import RateLimiter
from service.verification.signatures import PdfSignatures, cached_signatures
from storage.archive import Archive
from storage.models import (
    Document,
    DocumentRevision,
    Organization,
    OrgKind,
    RequestStatus,
    SignerCertificate,
    SigningRequest,
)

__all__ = [
    "DUMMY_CODE",
    "Found",
    "RateLimited",
    "build",
    "cached",
    "canonical_code",
    "check_identity",
    "lookup",
    "query",
    "query_async",
]

#: Looked up in place of a malformed code: well-formed in shape, impossible as a code (no ``U``).
DUMMY_CODE = "UUUU-UUUU-UUUU-UUUU"

#: Documents the region office issues: every other kind is the serving county office's.
REGION_ISSUED = frozenset({"notice", "certificate", "evaluation"})
REGION_OFFICE_NAME = "内蒙古自治区西部计划项目办"


class RateLimited(AppError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int, what: str = "查询") -> None:
        super().__init__(f"{what}过于频繁，请{retry_after}秒后再试", retry_after=retry_after)


@dataclass(frozen=True)
class Found:
    """A lookup's answer: the statement, and the JSON bytes the API sends."""

    statement: schemas.Statement
    body: bytes

    @property
    def found(self) -> bool:
        return self.statement.status_code != "not_found"


def canonical_code(text: str) -> str:
    """The stored form of ``text``, or :data:`DUMMY_CODE` when it cannot be a code."""
    try:
        return normalize_code(text)
    except InvalidCode:
        return DUMMY_CODE


_NOT_FOUND = statement.not_found()
NOT_FOUND = Found(_NOT_FOUND, _NOT_FOUND.model_dump_json().encode())

_statements: Lru[Rows, Found] = Lru(8192)


def query(engine: Engine, text: str) -> Rows:
    """The lookup's one query for whatever a verifier typed or scanned, on a pooled connection (for
    worker threads and the CLI; a request on the event loop uses :func:`query_async`): no rows
    when nothing matches.
    """
    return for_engine(engine).pooled(canonical_code(text))


async def query_async(engine: Engine, text: str) -> Rows:
    """The lookup's one query, for a request on the event loop: the loop never waits for a network.

    On SQLite the query runs right here, on the loop's held connection (~10 µs: cheaper than any
    hop to a thread). On PostgreSQL it is a round trip: it goes to the loop's batcher, which runs
    the lookups arriving together as one query in a thread of its own (:mod:`.batching`).
    """
    compiled = for_engine(engine)
    code = canonical_code(text)
    if compiled.many_sql is None:
        return compiled.held(code)
    return await batching.batcher(compiled).rows_for(code)


def cached(rows: Rows) -> Found | None:
    """The answer for ``rows`` if it is already known (the rows are the key: they are all it depends on)."""
    if not rows:
        return NOT_FOUND
    return _statements.peek(rows)


def build(engine: Engine, rows: Rows) -> Found:
    """The answer for ``rows``, built once per state of a document (its snapshot, signatures, names)."""
    if not rows:
        return NOT_FOUND
    typed = for_engine(engine).typed(rows)
    row = statement.DocumentRow(*typed[0][:10])
    grades = {r[10]: (r[11], bool(r[12])) for r in typed if r[10] is not None}
    return _statements.get(rows, lambda: _build(engine, row, grades))


def lookup(engine: Engine, text: str) -> Found:
    """The public statement for whatever a verifier typed or scanned, in one call."""
    rows = query(engine, text)
    return cached(rows) or build(engine, rows)


def _build(engine: Engine, row: statement.DocumentRow, grades: dict[int, tuple[str, bool]]) -> Found:
    """Everything a statement needs beyond the lookup row; runs once per state of a document."""
    settings = get_settings()
    with Session(engine) as session:
        snapshot = session.exec(select(Document.snapshot).where(col(Document.id) == row.id)).one()
        data = from_snapshot(dict(snapshot))
        issuer = _issuer(session, row.kind, data)
        facts = cached_signatures(row.current_sha256, Archive.at(settings.data_dir).get)
        signers = _signers(session, row, data, facts)
    built = statement.build(
        row,
        data,
        grades=grades,
        issuer=issuer,
        signers=signers,
        document_timestamps=facts.document_timestamps,
        public_url=settings.public_url,
    )
    return Found(built, built.model_dump_json().encode())


def _issuer(session: Session, kind: str, data: DocumentData) -> str:
    if kind not in REGION_ISSUED:
        return data.placement.county_office
    name = session.exec(
        select(Organization.name).where(Organization.kind == OrgKind.REGION_OFFICE.value)
    ).first()
    return name or REGION_OFFICE_NAME


def _signers(
    session: Session, row: statement.DocumentRow, data: DocumentData, facts: PdfSignatures
) -> list[schemas.Signer]:
    """Each party in signing order: from its signing request where the document is signed online,
    else (sealed at issuance) from the signatures in the file, matched to our certificates by serial.
    A volunteer is shown by the masked name, never by the certificate (whose subject is the name)."""
    kind = get_kind(row.kind)
    by_serial = {f.serial: f for f in facts.signatures}
    holder = mask_name(data.person.name)
    requests = session.exec(
        select(SigningRequest, SignerCertificate.serial, Organization.name)
        .outerjoin(SignerCertificate, col(SignerCertificate.id) == SigningRequest.certificate_id)
        .outerjoin(Organization, col(Organization.id) == SigningRequest.organization_id)
        .where(SigningRequest.document_id == row.id)
        .order_by(col(SigningRequest.position))
    ).all()
    out: list[schemas.Signer] = []
    for req, serial, org_name in requests:
        fact = by_serial.get(serial) if serial else None
        signed = req.status == RequestStatus.SIGNED.value
        out.append(
            schemas.Signer(
                role=role_label(kind, req.party),
                name=holder if req.volunteer_id is not None else org_name,
                status=request_status(req.status),
                signed_at=statement.to_china(req.signed_at),
                timestamp=statement.to_china(fact.timestamp) if fact else None,
                timestamp_authority=fact.timestamp_authority if fact else None,
                certificate_serial=serial if signed else None,
            )
        )
    if requests or not facts.signatures:
        return out
    # Sealed at issuance (notices, certificates): the kind's parties, one signature each, in order.
    certs = session.exec(
        select(SignerCertificate.serial, Organization.name)
        .join(Organization, col(Organization.id) == SignerCertificate.organization_id)
        .where(col(SignerCertificate.serial).in_(list(by_serial)))
    ).all()
    names = dict(certs)
    sealed_at = session.exec(
        select(DocumentRevision.created_at)
        .where(DocumentRevision.document_id == row.id, col(DocumentRevision.reason).startswith("sealed:"))
        .order_by(col(DocumentRevision.seq))
    ).first()
    for party, fact in zip(kind.parties, facts.signatures, strict=False):
        out.append(
            schemas.Signer(
                role=role_label(kind, party),
                name=names.get(fact.serial),
                status=request_status(RequestStatus.SIGNED.value),
                signed_at=statement.to_china(sealed_at),
                timestamp=statement.to_china(fact.timestamp),
                timestamp_authority=fact.timestamp_authority,
                certificate_serial=fact.serial,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# The identity check


def check_identity(
    session: Session,
    text: str,
    question: schemas.IdentityQuestion,
    actor: Actor,
    *,
    per_document: RateLimiter,
) -> schemas.IdentityAnswer:
    """一致 if what the verifier typed is the holder's full name (or ID number), else 不一致.

    Unknown and malformed codes get the lookup's not-found answer (404) after the same work. Each
    check is limited per document, whatever the client's address, and recorded in the document's
    audit trail (who asked from where, which field, the answer; never what was typed).
    """
    field, typed = ("name", question.name) if question.name else ("id_number", question.id_number or "")
    key = identity_key(get_settings().secret_key)
    found = session.exec(
        select(Document.id, Document.snapshot).where(Document.verification_code == canonical_code(text))
    ).first()
    if found is None:
        matches(key, field, typed, "")  # the same hashing as for a found document
        raise NotFound(statement.NOT_FOUND_MESSAGE)
    doc_id, snapshot = found
    assert doc_id is not None
    decision = per_document.take(f"document:{doc_id}")
    if not decision.allowed:
        raise RateLimited(decision.retry_after, "对该文书的身份核对")
    person = snapshot["data"]["person"]
    same = matches(key, field, typed, str(person.get(field) or ""))
    lock_document(session, doc_id)  # audit events are appended under the document's lock
    label = "姓名" if field == "name" else "身份证号"
    result: schemas.IdentityResult = "一致" if same else "不一致"
    audit.record(session, doc_id, Event.VERIFIED, actor, detail=f"核对持有人{label}：{result}")
    return schemas.IdentityAnswer(result=result)
