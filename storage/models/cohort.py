"""A programme year (年度), e.g. 2020-2021, with its deadlines."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from storage.models.base import created_at_field


class Cohort(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=9, unique=True, index=True, description="e.g. 2020-2021")
    name: str = Field(max_length=100)
    start_year: int
    # 实施方案 二(三)3: agreements are signed before Aug 14; 二(三)1: report Jul 20–31.
    signing_deadline: date
    report_window_start: date
    report_window_end: date
    created_at: datetime = created_at_field()
