"""What the online-signing APIs take and return. Tokens appear only in LinkRead, once.

The JSON keeps the names it had when agreements were the only kind signed online (``agreement``
in a creation result); the Python names are general, with the old ones kept as aliases.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from doc_templates.kinds import PARTY_TITLES, get_kind
from service.agreements.service import Created, RecipientMissing, Skipped
from service.agreements.turns import IssuedLink
from storage.models import AuditEvent, Document, SigningRequest

SignedKind = Literal["agreement", "appraisal", "evaluation"]


class SigningCreate(BaseModel):
    cohort: str = Field(description="年度，如 2020-2021")
    kind: SignedKind = Field(
        default="agreement",
        description="agreement 三方服务协议 | appraisal 年度考核表 | evaluation 服务鉴定表",
    )
    term_id: int | None = None
    id_number: str | None = None
    league: str | None = None
    county: str | None = None
    unit_id: int | None = None
    year: int = Field(
        default=1, ge=1, le=3, description="第几服务年（协议一年一签、考核每年一次；鉴定表不用）"
    )
    expires_on: date | None = Field(
        default=None, description="链接有效期（缺省：第一年协议为年度签署截止日，其余为30天）"
    )
    recipients: dict[str, str] = Field(
        default_factory=dict, description='各方接收人（邮箱或手机号），如 {"unit": "a@b.cn"}'
    )

    @property
    def names_one_person(self) -> bool:
        return self.term_id is not None or bool(self.id_number)


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
    """One party's link. ``token``, ``url`` and ``expires_at`` are null while the party waits its
    turn: its link is minted and sent when the party before it signs."""

    party: str
    request_id: int
    status: str
    token: str | None
    url: str | None
    expires_at: datetime | None
    recipient: str | None

    @classmethod
    def of(cls, link: IssuedLink) -> LinkRead:
        return cls(**link.__dict__)


class WarningRead(BaseModel):
    """A party nobody can send its link to (no e-mail or phone on file)."""

    party: str
    party_title: str
    organization: str | None = Field(description="单位名称；志愿者为 null")
    message: str

    @classmethod
    def of(cls, w: RecipientMissing) -> WarningRead:
        return cls(
            party=w.party, party_title=PARTY_TITLES.get(w.party, w.party), organization=w.organization,
            message=w.message,
        )  # fmt: skip


class PartyRead(BaseModel):
    party: str
    title: str
    position: int
    status: str
    signed_at: datetime | None
    decline_reason: str | None
    has_recipient: bool = Field(description="是否登记了接收签署链接的联系方式")

    @classmethod
    def of(cls, r: SigningRequest) -> PartyRead:
        return cls(
            party=r.party, title=PARTY_TITLES.get(r.party, r.party), position=r.position, status=r.status,
            signed_at=r.signed_at, decline_reason=r.decline_reason, has_recipient=bool(r.recipient),
        )  # fmt: skip


class SigningDocumentRead(BaseModel):
    id: int
    kind: str
    title: str
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
    def of(cls, doc: Document, requests: list[SigningRequest]) -> SigningDocumentRead:
        assert doc.id is not None
        turn = next((r.party for r in requests if r.status == "open"), None)
        return cls(
            id=doc.id, kind=doc.kind, title=get_kind(doc.kind).title, number=doc.number,
            verification_code=doc.verification_code, term_id=doc.term_id, service_year=doc.service_year,
            status=doc.status, signing_state=doc.signing_state, version=doc.version,
            current_sha256=doc.current_sha256, superseded_by_id=doc.superseded_by_id, turn=turn,
            parties=[PartyRead.of(r) for r in requests],
        )  # fmt: skip


class CreatedRead(BaseModel):
    agreement: SigningDocumentRead = Field(description="新签发的文书（字段名沿用 agreement）")
    links: list[LinkRead] = Field(description="各签署方；签署链接只在此处显示一次，尚未轮到的一方为 null")
    warnings: list[WarningRead] = Field(default_factory=list, description="无法自动发送链接的签署方")

    @classmethod
    def of(cls, created: Created, requests: list[SigningRequest]) -> CreatedRead:
        return cls(
            agreement=SigningDocumentRead.of(created.document, requests),
            links=[LinkRead.of(x) for x in created.links],
            warnings=[WarningRead.of(w) for w in created.warnings],
        )


class SkippedRead(BaseModel):
    term_id: int
    number: str | None = Field(description="已有文书的编号；尚不能签发时为 null")
    reason: str
    code: str = Field(description="exists | appraisal_not_graded | service_not_ended | …")

    @classmethod
    def of(cls, s: Skipped) -> SkippedRead:
        return cls(term_id=s.term_id, number=s.number, reason=s.reason, code=s.code)


class CreateResult(BaseModel):
    created: list[CreatedRead]
    skipped: list[SkippedRead] = Field(
        default_factory=list, description="已有文书或尚不能签发而跳过的服务记录"
    )


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


class SigningDocumentDetail(SigningDocumentRead):
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


# Older names, from when agreements were the only kind signed online.
AgreementCreate = SigningCreate
AgreementRead = SigningDocumentRead
AgreementDetail = SigningDocumentDetail
