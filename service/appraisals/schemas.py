"""Request and response bodies for annual appraisals (年度考核), the 优秀 cap and policy eligibility."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class AppraisalIn(BaseModel):
    term_id: int
    service_year: int = Field(ge=1, le=3, description="服务第几年（1至约定服务期限）")
    grade: str = Field(max_length=20, description="考核等次，取值见 GET /appraisals/grades")
    remarks: str | None = Field(default=None, max_length=500)


class AppraisalBulkIn(BaseModel):
    items: list[AppraisalIn] = Field(min_length=1, max_length=5000)


class AppraisalRead(BaseModel):
    id: int
    term_id: int
    service_year: int
    grade: str
    remarks: str | None
    recorded_by_id: int | None
    recorded_at: datetime


class GradeRead(BaseModel):
    code: str
    rank: int
    qualified: bool
    capped: bool


class CapSummary(BaseModel):
    cohort_id: int
    cohort_code: str
    service_year: int
    serving: int = Field(description="该年度该服务年在岗志愿者人数")
    excellent: int = Field(description="已评优秀人数")
    allowed: int = Field(description="优秀上限（在岗人数的20%）")
    remaining: int


class EligibilityRead(BaseModel):
    eligible: bool
    rule: str
    window_start: date | None
    window_end: date | None
    reasons: list[str]


class TermEligibility(BaseModel):
    term_id: int
    service_end: date
    completed: bool = Field(description="约定服务期是否已满")
    postgraduate_bonus: EligibilityRead
    fresh_graduate_treatment: EligibilityRead
    notes: list[str]
