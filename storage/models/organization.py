"""Offices and service units, in one tree: region → league → county → unit."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel, UniqueConstraint

from storage.models.base import created_at_field


class OrgKind(StrEnum):
    REGION_OFFICE = "自治区项目办"
    LEAGUE_OFFICE = "盟市项目办"
    COUNTY_OFFICE = "旗县项目办"
    SERVICE_UNIT = "服务单位"
    UNIVERSITY_OFFICE = "高校项目办"


class Organization(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("kind", "league", "county", "name", name="uq_organization_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)
    name: str = Field(max_length=200)
    parent_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    # Denormalised place, so that scope checks are one indexed comparison.
    league: str | None = Field(default=None, max_length=20, index=True)
    county: str | None = Field(default=None, max_length=30, index=True)
    # 统一社会信用代码 (GB 32100), validated with its check character when given.
    credit_code: str | None = Field(default=None, max_length=18, unique=True)
    created_at: datetime = created_at_field()
