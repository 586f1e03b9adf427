"""Request and response bodies for offices and service units."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from storage.models import OrgKind


class OrganizationCreate(BaseModel):
    kind: Literal[OrgKind.LEAGUE_OFFICE, OrgKind.COUNTY_OFFICE, OrgKind.SERVICE_UNIT]
    name: str = Field(min_length=2, max_length=200)
    league: str = Field(max_length=20)
    county: str | None = Field(default=None, max_length=30)
    credit_code: str | None = Field(default=None, description="统一社会信用代码（可选，18位）")


class OrganizationRead(BaseModel):
    id: int
    kind: OrgKind
    name: str
    parent_id: int | None
    league: str | None
    county: str | None
    credit_code: str | None
