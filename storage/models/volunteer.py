"""Volunteers, posts and service terms: who serves where, in which cohort."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from storage.models.base import created_at_field


class Volunteer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    id_number: str = Field(max_length=18, unique=True, index=True)
    name: str = Field(max_length=50)
    sex: str = Field(max_length=1)
    birth_date: date
    ethnicity: str = Field(max_length=20)
    political_status: str = Field(max_length=20)
    phone: str = Field(max_length=11)
    email: str | None = Field(default=None, max_length=200)
    university: str = Field(max_length=100)
    degree: str = Field(max_length=20)
    major: str = Field(max_length=100)
    graduation: str = Field(max_length=7, description="YYYY-MM")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class Post(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("unit_id", "title", "track", "county_level", name="uq_post_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="organization.id", index=True)
    league: str = Field(max_length=20, index=True)
    county: str = Field(max_length=30, index=True)
    track: str = Field(max_length=20)
    title: str = Field(max_length=100)
    # 县级及以上机关: counts against the 10% cap (实施方案 二(一)2).
    county_level: bool = False


class ServiceTerm(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("volunteer_id", "cohort_id", name="uq_term_volunteer_cohort"),)

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = Field(foreign_key="volunteer.id", index=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    project_type: str = Field(max_length=10, description="全国项目 | 地方项目")
    graduate_teaching_corps: bool = False
    report_date: date
    agreed_years: int
    sheet_row: int | None = Field(default=None, description="序号 in the office's intake sheet")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
