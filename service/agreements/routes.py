"""Agreements API: the office creates, follows, resends, voids and re-issues; signers sign by link or login.

Link endpoints (``/signing/{token}``) need no login: the 256-bit token is the credential and the
one-time code confirms the person. Logged-in office and unit users sign from their account
(``POST /agreements/{id}/sign``) without a code: their login already authenticates them.
"""

from __future__ import annotations

import base64

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session

from doc_templates.kinds import PARTY_TITLES, get_kind
from service.agreements import repository, service, signer
from service.agreements.schemas import (
    AgreementCreate,
    AgreementDetail,
    AgreementRead,
    AuditRead,
    CodeBody,
    CodeSent,
    CreatedRead,
    CreateResult,
    LinkRead,
    ReasonBody,
    ReissueBody,
    ResendBody,
    SignedRead,
    SigningPage,
)
from service.audit import service as audit
from service.audit.service import Actor
from service.config import get_settings
from service.deps import CurrentScope, CurrentUser, SessionDep, require_roles
from service.documents.converter import shared_converter
from service.errors import Forbidden, NotFound
from storage.archive import Archive
from storage.models import Role, SigningRequest, User

router = APIRouter(tags=["agreements"])
OFFICES = require_roles(Role.REGION_ADMIN, Role.LEAGUE_OFFICE, Role.COUNTY_OFFICE)
SIGNING_ORGS = require_roles(Role.COUNTY_OFFICE, Role.SERVICE_UNIT)


def _archive() -> Archive:
    return Archive.at(get_settings().data_dir)


def _actor(request: Request, user: User | None = None) -> Actor:
    name = f"{user.display_name}（{user.username}）" if user else "签署链接持有人"
    ip = request.client.host if request.client else None
    return Actor(name, ip=ip, user_agent=request.headers.get("user-agent"))


def _read(session: Session, doc_id: int) -> AgreementRead:
    doc = service.documents.get_document(session, doc_id)
    return AgreementRead.of(doc, service.requests_of(session, doc_id))


def _created(session: Session, created: service.Created) -> CreatedRead:
    assert created.document.id is not None
    return CreatedRead.of(created, service.requests_of(session, created.document.id))


# --- office side -------------------------------------------------------------------------------


@router.post("/agreements", response_model=CreateResult, status_code=201, dependencies=[OFFICES])
def create_agreements(
    session: SessionDep, scope: CurrentScope, user: CurrentUser, request: Request, body: AgreementCreate
) -> CreateResult:
    """Create agreements for one term, a filter (league / county / unit) or a whole cohort; links shown once."""
    terms = repository.terms_for(
        session, scope, body.cohort, term_id=body.term_id, id_number=body.id_number, league=body.league,
        county=body.county, unit_id=body.unit_id,
    )  # fmt: skip
    if not terms and (body.term_id is not None or body.id_number):
        raise NotFound("没有找到该志愿者的服务记录（或不在您的管辖范围内）")
    created, skipped = service.create_many(
        session, _archive(), shared_converter(), terms, year=body.year, expires_on=body.expires_on,
        recipients=body.recipients, actor=_actor(request, user),
    )  # fmt: skip
    return CreateResult(
        created=[_created(session, c) for c in created],
        skipped=[{"term_id": t, "number": n} for t, n in skipped],
    )


@router.get("/agreements", response_model=list[AgreementRead], dependencies=[OFFICES])
def list_agreements(
    session: SessionDep,
    scope: CurrentScope,
    cohort: str | None = Query(default=None),
    state: str | None = Query(default=None, description="pending | completed | declined | voided"),
    limit: int = Query(default=200, ge=1, le=1000),
    offset: int = Query(default=0, ge=0),
) -> list[AgreementRead]:
    docs = repository.list_agreements(
        session, scope, cohort_code=cohort, state=state, limit=limit, offset=offset
    )
    return [AgreementRead.of(d, service.requests_of(session, d.id or 0)) for d in docs]


@router.get("/agreements/{document_id}", response_model=AgreementDetail)
def agreement_detail(session: SessionDep, scope: CurrentScope, document_id: int) -> AgreementDetail:
    """Status of each party and the audit trail."""
    doc = repository.visible_agreement(session, scope, document_id)
    base = AgreementRead.of(doc, service.requests_of(session, document_id))
    return AgreementDetail(
        **base.model_dump(), audit=[AuditRead.of(e) for e in audit.events(session, document_id)]
    )


@router.get("/agreements/{document_id}/pdf")
def agreement_pdf(
    session: SessionDep, scope: CurrentScope, user: CurrentUser, request: Request, document_id: int
) -> Response:
    repository.visible_agreement(session, scope, document_id)
    doc, data = service.download(session, _archive(), document_id, _actor(request, user))
    headers = {"Content-Disposition": f'attachment; filename="agreement-{doc.id}-v{doc.version}.pdf"'}
    return Response(data, media_type="application/pdf", headers=headers)


@router.post("/agreements/{document_id}/resend", response_model=LinkRead, dependencies=[OFFICES])
def resend_link(
    session: SessionDep,
    scope: CurrentScope,
    user: CurrentUser,
    request: Request,
    document_id: int,
    body: ResendBody,
) -> LinkRead:
    """A new link for one party; the old one stops working at once."""
    repository.visible_agreement(session, scope, document_id)
    link = service.resend(
        session,
        document_id,
        body.party,
        _actor(request, user),
        recipient=body.recipient,
        expires_on=body.expires_on,
    )
    return LinkRead.of(link)


@router.post("/agreements/{document_id}/void", response_model=AgreementRead, dependencies=[OFFICES])
def void_agreement(
    session: SessionDep,
    scope: CurrentScope,
    user: CurrentUser,
    request: Request,
    document_id: int,
    body: ReasonBody,
) -> AgreementRead:
    repository.visible_agreement(session, scope, document_id)
    service.void(session, document_id, body.reason, _actor(request, user))
    return _read(session, document_id)


@router.post(
    "/agreements/{document_id}/reissue", response_model=CreatedRead, status_code=201, dependencies=[OFFICES]
)
def reissue_agreement(
    session: SessionDep,
    scope: CurrentScope,
    user: CurrentUser,
    request: Request,
    document_id: int,
    body: ReissueBody,
) -> CreatedRead:
    """Void this agreement's signing and issue a new one (with new links) that supersedes it."""
    repository.visible_agreement(session, scope, document_id)
    created = service.reissue(
        session, _archive(), shared_converter(), document_id, body.reason, _actor(request, user),
        expires_on=body.expires_on, recipients=body.recipients,
    )  # fmt: skip
    return _created(session, created)


@router.post("/agreements/{document_id}/sign", response_model=SignedRead, dependencies=[SIGNING_ORGS])
def sign_from_account(
    session: SessionDep, scope: CurrentScope, user: CurrentUser, request: Request, document_id: int
) -> SignedRead:
    """A county office or unit user signs for their organization when it is its turn (no code: logged in)."""
    repository.visible_agreement(session, scope, document_id)
    if user.organization_id is None:
        raise Forbidden("当前账号未关联单位，不能签署")
    req = signer.sign_as_organization(
        session, _archive(), document_id, user.organization_id, _actor(request, user)
    )
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
    seen = signer.view(session, token, _actor(request))
    doc, req = seen.document, seen.request
    assert doc.id is not None
    pdf = _archive().get(doc.current_sha256)
    return SigningPage(
        document_id=doc.id, kind=doc.kind, title=get_kind(doc.kind).title, number=doc.number, party=req.party,
        party_title=PARTY_TITLES.get(req.party, req.party), status=req.status, signing_state=doc.signing_state,
        turn=seen.turn, parties=AgreementRead.of(doc, seen.requests).parties,
        expires_at=req.token_expires_at, recipient_hint=service.mask_recipient(req.recipient) if req.recipient else None,
        pdf_base64=base64.b64encode(pdf).decode(),
    )  # fmt: skip


@router.get("/signing/{token}/pdf")
def signing_pdf(session: SessionDep, request: Request, token: str) -> Response:
    seen = signer.view(session, token, _actor(request), record=False)
    data = _archive().get(seen.document.current_sha256)
    return Response(data, media_type="application/pdf", headers={"Cache-Control": "no-store"})


@router.post("/signing/{token}/code", response_model=CodeSent, status_code=202)
def send_code(session: SessionDep, request: Request, token: str) -> CodeSent:
    """Send a fresh 6-digit code to the signer (older codes stop working); at most once a minute."""
    req, valid = signer.send_code(session, token, _actor(request))
    return CodeSent(sent_to=service.mask_recipient(req.recipient), valid_seconds=valid)


@router.post("/signing/{token}/sign", response_model=SignedRead)
def sign_by_link(session: SessionDep, request: Request, token: str, body: CodeBody) -> SignedRead:
    try:
        req = signer.sign_with_code(session, _archive(), token, body.code, _actor(request))
    except (service.CodeRejected, service.Locked):
        session.commit()  # the failed attempt must count even though the request fails
        raise
    return _signed(session, req)


@router.post("/signing/{token}/decline", response_model=SignedRead)
def decline_by_link(session: SessionDep, request: Request, token: str, body: ReasonBody) -> SignedRead:
    req = signer.decline(session, token, body.reason, _actor(request))
    return _signed(session, req)
