"""What the agreements and signing APIs take and return. Tokens appear only in LinkRead, once."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from doc_templates.kinds import PARTY_TITLES
from service.agreements.service import Created, IssuedLink
from storage.models import AuditEvent, Document, SigningRequest


class AgreementCreate(BaseModel):
    cohort: str = Field(description="年度，如 2020-2021")
    term_id: int | None = None
    id_number: str | None = None
    league: str | None = None
    county: str | None = None
    unit_id: int | None = None
    year: int = Field(default=1, ge=1, le=3, description="第几服务年（一年一签）")
    expires_on: date | None = Field(default=None, description="链接有效期（缺省为年度签署截止日）")
    recipients: dict[str, str] = Field(
        default_factory=dict, description='各方接收人（邮箱），如 {"unit": "a@b.cn"}'
    )


class ReasonBody(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class ReissueBody(ReasonBody):
    expires_on: date | None = None
    recipients: dict[str, str] = Field(default_factory=dict)


class ResendBody(BaseModel):
    party: str
    recipient: str | None = Field(default=None, max_length=200)
    expires_on: date | None = None


class CodeBody(BaseModel):
    code: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$")


class LinkRead(BaseModel):
    party: str
    request_id: int
    token: str
    url: str
    expires_at: datetime
    recipient: str | None

    @classmethod
    def of(cls, link: IssuedLink) -> LinkRead:
        return cls(**link.__dict__)


class PartyRead(BaseModel):
    party: str
    title: str
    position: int
    status: str
    signed_at: datetime | None
    decline_reason: str | None

    @classmethod
    def of(cls, r: SigningRequest) -> PartyRead:
        return cls(
            party=r.party, title=PARTY_TITLES.get(r.party, r.party), position=r.position, status=r.status,
            signed_at=r.signed_at, decline_reason=r.decline_reason,
        )  # fmt: skip


class AgreementRead(BaseModel):
    id: int
    number: str
    verification_code: str
    term_id: int | None
    service_year: int | None
    status: str
    signing_state: str
    version: int
    current_sha256: str
    superseded_by_id: int | None
    turn: str | None = None
    parties: list[PartyRead] = Field(default_factory=list)

    @classmethod
    def of(cls, doc: Document, requests: list[SigningRequest]) -> AgreementRead:
        assert doc.id is not None
        turn = next((r.party for r in requests if r.status == "open"), None)
        return cls(
            id=doc.id, number=doc.number, verification_code=doc.verification_code, term_id=doc.term_id,
            service_year=doc.service_year, status=doc.status, signing_state=doc.signing_state,
            version=doc.version, current_sha256=doc.current_sha256, superseded_by_id=doc.superseded_by_id,
            turn=turn, parties=[PartyRead.of(r) for r in requests],
        )  # fmt: skip


class CreatedRead(BaseModel):
    agreement: AgreementRead
    links: list[LinkRead] = Field(description="签署链接只在此处显示一次")

    @classmethod
    def of(cls, created: Created, requests: list[SigningRequest]) -> CreatedRead:
        return cls(
            agreement=AgreementRead.of(created.document, requests),
            links=[LinkRead.of(x) for x in created.links],
        )


class CreateResult(BaseModel):
    created: list[CreatedRead]
    skipped: list[dict[str, object]] = Field(default_factory=list, description="已有协议而跳过的服务记录")


class AuditRead(BaseModel):
    seq: int
    event: str
    at: datetime
    actor: str
    ip: str | None
    detail: str | None

    @classmethod
    def of(cls, e: AuditEvent) -> AuditRead:
        return cls(seq=e.seq, event=e.event, at=e.at, actor=e.actor, ip=e.ip, detail=e.detail)


class AgreementDetail(AgreementRead):
    audit: list[AuditRead] = Field(default_factory=list)


class SigningPage(BaseModel):
    """What a link holder sees: the document, the parties, whose turn, and the PDF."""

    document_id: int
    kind: str
    title: str
    number: str
    party: str
    party_title: str
    status: str
    signing_state: str
    turn: str | None
    parties: list[PartyRead]
    expires_at: datetime | None
    recipient_hint: str | None
    pdf_base64: str


class CodeSent(BaseModel):
    sent_to: str
    valid_seconds: int


class SignedRead(BaseModel):
    party: str
    status: str
    signing_state: str
    turn: str | None
    document_id: int
