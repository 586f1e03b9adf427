"""Online-signing API: the office sends documents out and follows them; signers sign by link or login.

``/signing-documents`` serves every kind signed online (三方服务协议, 年度考核表, 服务鉴定表);
``/agreements`` is the same set of endpoints under the name they had when agreements were the only
kind, and lists agreements only. Each handler is mounted under both paths.

Link endpoints (``/signing/{token}``) need no login: the 256-bit token is the credential and the
one-time code confirms the person. Logged-in county office, unit and region office users sign
from their account (``POST /signing-documents/{id}/sign``) without a code: their password login
already authenticated them (see :func:`service.agreements.signer.sign_from_account`).
"""

from __future__ import annotations

import base64

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session

from doc_templates.kinds import PARTY_TITLES, get_kind
from service.agreements import repository, service, signer, turns
from service.agreements.schemas import (
    AuditRead,
    CodeBody,
    CodeSent,
    CreatedRead,
    CreateResult,
    LinkRead,
    ReasonBody,
    ReissueBody,
    ResendBody,
    SignedKind,
    SignedRead,
    SigningCreate,
    SigningDocumentDetail,
    SigningDocumentRead,
    SigningPage,
    SkippedRead,
)
from service.audit import service as audit
from service.config import get_settings
from service.deps import CurrentScope, CurrentUser, SessionDep, UserActor, actor, require_roles
from service.documents.converter import shared_converter
from service.errors import NotFound
from storage.archive import Archive
from storage.models import Document, Role, SigningRequest

router = APIRouter(tags=["signing"])
OFFICES = require_roles(Role.REGION_ADMIN, Role.LEAGUE_OFFICE, Role.COUNTY_OFFICE)
SIGNING_ORGS = require_roles(Role.REGION_ADMIN, Role.COUNTY_OFFICE, Role.SERVICE_UNIT)
DOCS, AGREEMENTS = "/signing-documents", "/agreements"


def _archive() -> Archive:
    return Archive.at(get_settings().data_dir)


def _read(session: Session, doc_id: int) -> SigningDocumentRead:
    doc = service.documents.get_document(session, doc_id)
    return SigningDocumentRead.of(doc, service.requests_of(session, doc_id))


def _created(session: Session, created: service.Created) -> CreatedRead:
    assert created.document.id is not None
    return CreatedRead.of(created, service.requests_of(session, created.document.id))


# --- office side -------------------------------------------------------------------------------


@router.post(DOCS, response_model=CreateResult, status_code=201, dependencies=[OFFICES])
@router.post(AGREEMENTS, response_model=CreateResult, status_code=201, dependencies=[OFFICES])
def create_documents(
    session: SessionDep, scope: CurrentScope, actor: UserActor, body: SigningCreate
) -> CreateResult:
    """Send documents of ``kind`` out for signing, for one term, a filter (league / county / unit) or a
    whole cohort. Only the first party's link is sent now and shown here once; each later party's
    link is sent when its turn comes. Parties nobody can be sent a link to are listed in ``warnings``."""
    terms = repository.terms_for(
        session, scope, body.cohort, term_id=body.term_id, id_number=body.id_number, league=body.league,
        county=body.county, unit_id=body.unit_id,
    )  # fmt: skip
    if not terms and body.names_one_person:
        raise NotFound("没有找到该志愿者的服务记录（或不在您的管辖范围内）")
    created, skipped = service.create_many(
        session, _archive(), shared_converter(), terms, kind=body.kind, year=body.year,
        expires_on=body.expires_on, recipients=body.recipients, actor=actor,
        refuse_not_ready=body.names_one_person,
    )  # fmt: skip
    return CreateResult(
        created=[_created(session, c) for c in created], skipped=[SkippedRead.of(s) for s in skipped]
    )


def _listed(session: Session, docs: list[Document]) -> list[SigningDocumentRead]:
    return [SigningDocumentRead.of(d, service.requests_of(session, d.id or 0)) for d in docs]


_STATE = Query(default=None, description="pending | completed | declined | voided")


@router.get(DOCS, response_model=list[SigningDocumentRead], dependencies=[OFFICES])
def list_documents(
    session: SessionDep,
    scope: CurrentScope,
    kind: SignedKind | None = Query(default=None),
    cohort: str | None = Query(default=None),
    state: str | None = _STATE,
    limit: int = Query(default=200, ge=1, le=1000),
    offset: int = Query(default=0, ge=0),
) -> list[SigningDocumentRead]:
    """Documents signed online in the caller's scope, newest first."""
    docs = repository.list_documents(
        session, scope, kind=kind, cohort_code=cohort, state=state, limit=limit, offset=offset
    )
    return _listed(session, docs)


@router.get(AGREEMENTS, response_model=list[SigningDocumentRead], dependencies=[OFFICES])
def list_agreements(
    session: SessionDep,
    scope: CurrentScope,
    cohort: str | None = Query(default=None),
    state: str | None = _STATE,
    limit: int = Query(default=200, ge=1, le=1000),
    offset: int = Query(default=0, ge=0),
) -> list[SigningDocumentRead]:
    """三方服务协议 in the caller's scope, newest first: :func:`list_documents` of one kind, under the
    path's older name (which takes no ``kind``)."""
    return list_documents(
        session, scope, kind="agreement", cohort=cohort, state=state, limit=limit, offset=offset
    )


@router.get(f"{DOCS}/inbox", response_model=list[SigningDocumentRead], dependencies=[SIGNING_ORGS])
def inbox(
    session: SessionDep,
    scope: CurrentScope,
    user: CurrentUser,
    limit: int = Query(default=200, ge=1, le=1000),
    offset: int = Query(default=0, ge=0),
) -> list[SigningDocumentRead]:
    """Documents waiting for the signature of the user's own organization, oldest first."""
    org, party = signer.account_signer(session, user)
    assert org.id is not None
    return _listed(session, repository.awaiting(session, scope, org.id, party, limit=limit, offset=offset))


@router.get(f"{DOCS}/{{document_id}}", response_model=SigningDocumentDetail)
@router.get(f"{AGREEMENTS}/{{document_id}}", response_model=SigningDocumentDetail)
def document_detail(session: SessionDep, scope: CurrentScope, document_id: int) -> SigningDocumentDetail:
    """Status of each party and the audit trail."""
    doc = repository.visible_document(session, scope, document_id)
    base = SigningDocumentRead.of(doc, service.requests_of(session, document_id))
    return SigningDocumentDetail(
        **base.model_dump(), audit=[AuditRead.of(e) for e in audit.events(session, document_id)]
    )


@router.get(f"{DOCS}/{{document_id}}/pdf")
@router.get(f"{AGREEMENTS}/{{document_id}}/pdf")
def document_pdf(session: SessionDep, scope: CurrentScope, actor: UserActor, document_id: int) -> Response:
    doc, data = service.download(session, _archive(), scope, document_id, actor)
    headers = {"Content-Disposition": f'attachment; filename="{doc.kind}-{doc.id}-v{doc.version}.pdf"'}
    return Response(data, media_type="application/pdf", headers=headers)


@router.post(f"{DOCS}/{{document_id}}/resend", response_model=LinkRead, dependencies=[OFFICES])
@router.post(f"{AGREEMENTS}/{{document_id}}/resend", response_model=LinkRead, dependencies=[OFFICES])
def resend_link(
    session: SessionDep, scope: CurrentScope, actor: UserActor, document_id: int, body: ResendBody
) -> LinkRead:
    """A new link for the party whose turn it is; its old link stops working at once."""
    repository.visible_document(session, scope, document_id)
    link = service.resend(
        session, document_id, body.party, actor, recipient=body.recipient,
        expires_on=body.expires_on,
    )  # fmt: skip
    return LinkRead.of(link)


@router.post(f"{DOCS}/{{document_id}}/void", response_model=SigningDocumentRead, dependencies=[OFFICES])
@router.post(f"{AGREEMENTS}/{{document_id}}/void", response_model=SigningDocumentRead, dependencies=[OFFICES])
def void_document(
    session: SessionDep, scope: CurrentScope, actor: UserActor, document_id: int, body: ReasonBody
) -> SigningDocumentRead:
    repository.visible_document(session, scope, document_id)
    service.void(session, document_id, body.reason, actor)
    return _read(session, document_id)


@router.post(
    f"{DOCS}/{{document_id}}/reissue", response_model=CreatedRead, status_code=201, dependencies=[OFFICES]
)
@router.post(
    f"{AGREEMENTS}/{{document_id}}/reissue",
    response_model=CreatedRead,
    status_code=201,
    dependencies=[OFFICES],
)
def reissue_document(
    session: SessionDep, scope: CurrentScope, actor: UserActor, document_id: int, body: ReissueBody
) -> CreatedRead:
    """Void this document's signing and issue a new one that supersedes it; its signing starts over."""
    repository.visible_document(session, scope, document_id)
    created = service.reissue(
        session, _archive(), shared_converter(), document_id, body.reason, actor,
        expires_on=body.expires_on, recipients=body.recipients,
    )  # fmt: skip
    return _created(session, created)


@router.post(f"{DOCS}/{{document_id}}/sign", response_model=SignedRead, dependencies=[SIGNING_ORGS])
@router.post(f"{AGREEMENTS}/{{document_id}}/sign", response_model=SignedRead, dependencies=[SIGNING_ORGS])
def sign_from_account(
    session: SessionDep, scope: CurrentScope, user: CurrentUser, actor: UserActor, document_id: int
) -> SignedRead:
    """The user signs for their own organization when its turn has come (no code: logged in).
    403 for a document of another unit or office, 409 out of turn."""
    req = signer.sign_from_account(session, _archive(), scope, user, document_id, actor)
    return _signed(session, req)


# --- signer side (by link) ----------------------------------------------------------------------


def _signed(session: Session, req: SigningRequest) -> SignedRead:
    read = _read(session, req.document_id)
    return SignedRead(
        party=req.party, status=req.status, signing_state=read.signing_state, turn=read.turn,
        document_id=req.document_id,
    )  # fmt: skip


@router.get("/signing/{token}", response_model=SigningPage)
def signing_page(session: SessionDep, request: Request, token: str) -> SigningPage:
    """What is to be signed, the parties and whose turn it is, with the current PDF (base64)."""
    seen = signer.view(session, token, actor(request))
    doc, req = seen.document, seen.request
    assert doc.id is not None
    pdf = _archive().get(doc.current_sha256)
    return SigningPage(
        document_id=doc.id, kind=doc.kind, title=get_kind(doc.kind).title, number=doc.number, party=req.party,
        party_title=PARTY_TITLES.get(req.party, req.party), status=req.status, signing_state=doc.signing_state,
        turn=seen.turn, parties=SigningDocumentRead.of(doc, seen.requests).parties,
        expires_at=req.token_expires_at, recipient_hint=turns.mask_recipient(req.recipient) if req.recipient else None,
        pdf_base64=base64.b64encode(pdf).decode(),
    )  # fmt: skip


@router.get("/signing/{token}/pdf")
def signing_pdf(session: SessionDep, request: Request, token: str) -> Response:
    seen = signer.view(session, token, actor(request), record=False)
    data = _archive().get(seen.document.current_sha256)
    return Response(data, media_type="application/pdf", headers={"Cache-Control": "no-store"})


@router.post("/signing/{token}/code", response_model=CodeSent, status_code=202)
def send_code(session: SessionDep, request: Request, token: str) -> CodeSent:
    """Send a fresh 6-digit code to the signer (older codes stop working); at most once a minute."""
    req, valid = signer.send_code(session, token, actor(request))
    return CodeSent(sent_to=turns.mask_recipient(req.recipient), valid_seconds=valid)


@router.post("/signing/{token}/sign", response_model=SignedRead)
def sign_by_link(session: SessionDep, request: Request, token: str, body: CodeBody) -> SignedRead:
    try:
        req = signer.sign_with_code(session, _archive(), token, body.code, actor(request))
    except (service.CodeRejected, service.Locked):
        session.commit()  # the failed attempt must count even though the request fails
        raise
    return _signed(session, req)


@router.post("/signing/{token}/decline", response_model=SignedRead)
def decline_by_link(session: SessionDep, request: Request, token: str, body: ReasonBody) -> SignedRead:
    req = signer.decline(session, token, body.reason, actor(request))
    return _signed(session, req)
