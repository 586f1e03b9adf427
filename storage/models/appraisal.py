"""Annual appraisals (年度考核) and the grade scale they use. The scale is data, not code."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from storage.models.base import created_at_field


class AppraisalGrade(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=20, description="e.g. 优秀")
    rank: int = Field(description="1 is best; orders the scale")
    qualified: bool = Field(description="counts as 考核合格 for policy eligibility")
    capped: bool = Field(default=False, description="limited to a share of serving volunteers (优秀: 20%)")


class Appraisal(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("term_id", "service_year", name="uq_appraisal_term_year"),)

    id: int | None = Field(default=None, primary_key=True)
    term_id: int = Field(foreign_key="serviceterm.id", index=True)
    service_year: int = Field(description="1, 2 or 3: which year of the term")
    grade: str = Field(foreign_key="appraisalgrade.code", max_length=20)
    remarks: str | None = Field(default=None, max_length=500)
    recorded_by_id: int | None = Field(default=None, foreign_key="user.id")
    recorded_at: datetime = created_at_field()
