"""People who log in: office staff, unit staff and volunteers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from storage.models.base import created_at_field


class Role(StrEnum):
    REGION_ADMIN = "region_admin"  # 自治区项目办: everything
    LEAGUE_OFFICE = "league_office"  # 盟市项目办: its league
    COUNTY_OFFICE = "county_office"  # 旗县项目办: its county
    SERVICE_UNIT = "service_unit"  # 服务单位: its own volunteers
    VOLUNTEER = "volunteer"  # own records


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100, unique=True, index=True)
    display_name: str = Field(max_length=100)
    password_hash: str = Field(max_length=200)
    role: str = Field(max_length=20)
    organization_id: int | None = Field(default=None, foreign_key="organization.id")
    volunteer_id: int | None = Field(default=None, foreign_key="volunteer.id")
    active: bool = True
    created_at: datetime = created_at_field()
