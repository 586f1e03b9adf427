"""One row per accepted import of an intake sheet: what changed and what the office was warned of."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from storage.models.base import created_at_field


class ImportRun(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    filename: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    rows: int
    created: int
    updated: int
    unchanged: int
    warnings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_at_field()
