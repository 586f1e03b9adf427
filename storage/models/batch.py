"""Batch issuance: one Batch, one item per volunteer, claimed by workers with a lease."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel, UniqueConstraint

from storage.models.base import created_at_field


class BatchStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"  # every item done or failed


class ItemStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"


class Batch(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    status: str = Field(default=BatchStatus.RUNNING.value, max_length=20, index=True)
    total: int = 0
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_at_field()
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class BatchItem(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("batch_id", "term_id", name="uq_batch_item_term"),)

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", index=True)
    term_id: int = Field(foreign_key="serviceterm.id")
    status: str = Field(default=ItemStatus.PENDING.value, max_length=20, index=True)
    claim_token: str | None = Field(default=None, max_length=40)
    claimed_until: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    attempts: int = 0
    document_id: int | None = Field(default=None, foreign_key="document.id")
    error: str | None = Field(default=None, max_length=1000)
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
