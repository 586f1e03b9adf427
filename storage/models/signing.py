"""Who signs with which certificate, and each party's place in a document's signing order."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, Text
from sqlmodel import Field, SQLModel, UniqueConstraint

from storage.models.base import created_at_field


class SignerCertificate(SQLModel, table=True):
    """A signing certificate of an organization or a volunteer: issued by our CA or imported (PKCS#12).

    The private key lives encrypted in the key store under ``key_id``; only the certificate is here.
    """

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    volunteer_id: int | None = Field(default=None, foreign_key="volunteer.id", index=True)
    serial: str = Field(max_length=64, unique=True, description="certificate serial, hex")
    key_id: str = Field(max_length=80, unique=True)
    subject: str = Field(max_length=400)
    cert_pem: str = Field(sa_type=Text)
    external: bool = Field(default=False, description="imported from another CA (PKCS#12)")
    not_after: datetime = Field(sa_type=DateTime(timezone=True))
    active: bool = True
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    revocation_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()


class RequestStatus(StrEnum):
    WAITING = "waiting"  # an earlier party has not signed yet
    OPEN = "open"  # this party's turn
    SIGNED = "signed"
    DECLINED = "declined"
    VOIDED = "voided"


class SigningRequest(SQLModel, table=True):
    """One party's signature on one document: its turn, its one-time link and code, its outcome.

    Tokens and codes are stored only as hashes.
    """

    __table_args__ = (UniqueConstraint("document_id", "position", name="uq_request_position"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    party: str = Field(max_length=20)
    position: int = Field(description="0-based place in the signing order")
    status: str = Field(default=RequestStatus.WAITING.value, max_length=20, index=True)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    volunteer_id: int | None = Field(default=None, foreign_key="volunteer.id", index=True)
    recipient: str | None = Field(
        default=None, max_length=200, description="e-mail or phone the link goes to"
    )
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    token_expires_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    code_hash: str | None = Field(default=None, max_length=64)
    code_expires_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    code_attempts: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    certificate_id: int | None = Field(default=None, foreign_key="signercertificate.id")
    signed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    decline_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at_field()


class AuditEvent(SQLModel, table=True):
    """Append-only, hash-chained history of a document: each row carries the hash of the one before."""

    __table_args__ = (UniqueConstraint("document_id", "seq", name="uq_audit_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    seq: int
    event: str = Field(max_length=30)
    at: datetime = Field(sa_type=DateTime(timezone=True))
    actor: str = Field(max_length=200)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)
    hash_before: str | None = Field(default=None, max_length=64)
    hash_after: str | None = Field(default=None, max_length=64)
    detail: str | None = Field(default=None, max_length=1000)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
