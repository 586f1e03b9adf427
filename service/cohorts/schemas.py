"""Request and response bodies for cohorts (年度)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class CohortCreate(BaseModel):
    code: str = Field(description="如 2020-2021", examples=["2020-2021"])
    name: str | None = Field(default=None, max_length=100)
    signing_deadline: date | None = Field(default=None, description="缺省为8月14日")
    report_window_start: date | None = Field(default=None, description="缺省为7月20日")
    report_window_end: date | None = Field(default=None, description="缺省为7月31日")


class CohortRead(BaseModel):
    id: int
    code: str
    name: str
    start_year: int
    signing_deadline: date
    report_window_start: date
    report_window_end: date
