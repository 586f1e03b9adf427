"""The document registry: template versions, issued documents and their revisions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel, UniqueConstraint

from storage.models.base import created_at_field


class DocumentStatus(StrEnum):
    ISSUED = "issued"  # rendered (and sealed where the kind is sealed at issuance)
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


class TemplateVersion(SQLModel, table=True):
    """A DOCX template, identified by its SHA-256; the blob lives in the archive under that key."""

    __table_args__ = (UniqueConstraint("kind", "sha256", name="uq_template_kind_sha"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)
    sha256: str = Field(max_length=64)
    active: bool = False
    note: str | None = Field(default=None, max_length=200)
    uploaded_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_at_field()


class Document(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)
    number: str = Field(max_length=60, unique=True, description="notice / agreement / certificate number")
    verification_code: str = Field(
        max_length=32, unique=True, index=True, description="normalised, no separators"
    )
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    term_id: int | None = Field(default=None, foreign_key="serviceterm.id", index=True)
    service_year: int | None = None
    # One live document per slot (e.g. the notice of term 42): set while issued, NULL once revoked
    # or superseded, so a unique constraint forbids duplicates without a partial index.
    live_slot: str | None = Field(default=None, max_length=80, unique=True)
    slot: str = Field(max_length=80, index=True)
    template_sha256: str = Field(max_length=64)
    snapshot: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    rendered_sha256: str = Field(
        max_length=64, index=True, description="the PDF as rendered, before any signature"
    )
    current_sha256: str = Field(max_length=64, description="the newest revision")
    status: str = Field(default=DocumentStatus.ISSUED.value, max_length=20, index=True)
    status_reason: str | None = Field(default=None, max_length=500)
    status_changed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    superseded_by_id: int | None = Field(default=None, foreign_key="document.id")
    batch_id: int | None = Field(default=None, foreign_key="batch.id", index=True)
    # Signing: "" for documents nobody signs online, else pending → completed (or declined / voided).
    signing_state: str = Field(default="", max_length=20, index=True)
    # Bumped on every change of the PDF; a signature is written only over the version it read.
    version: int = 1
    # Hash of the newest audit event: deleting the last event (which breaks no link) shows here.
    audit_head: str | None = Field(default=None, max_length=64)
    created_at: datetime = created_at_field()


class DocumentRevision(SQLModel, table=True):
    """Each state of a document's PDF, oldest first; every blob is archived before its row exists."""

    __table_args__ = (UniqueConstraint("document_id", "seq", name="uq_revision_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    seq: int
    sha256: str = Field(max_length=64)
    reason: str = Field(max_length=60, description="rendered | signed:<party> | timestamped")
    created_at: datetime = created_at_field()
