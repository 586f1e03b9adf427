"""Cohorts (年度): created on first use with the plan's default calendar."""

from __future__ import annotations

from sqlmodel import Session, select

from service.cohorts.rules import default_calendar, parse_cohort_code
from service.errors import NotFound
from storage.models import Cohort


def get_by_code(session: Session, code: str) -> Cohort:
    cohort = session.exec(select(Cohort).where(Cohort.code == code)).first()
    if cohort is None:
        raise NotFound(f"年度“{code}”不存在")
    return cohort


def get_or_create(session: Session, code: str) -> Cohort:
    """The cohort with this code; a new one gets the plan's deadlines (Aug 14, Jul 20–31)."""
    start_year = parse_cohort_code(code)
    cohort = session.exec(select(Cohort).where(Cohort.code == code)).first()
    if cohort is not None:
        return cohort
    cal = default_calendar(start_year)
    cohort = Cohort(
        code=code,
        name=f"{start_year}—{start_year + 1}年度内蒙古大学生志愿服务西部计划",
        start_year=start_year,
        signing_deadline=cal.signing_deadline,
        report_window_start=cal.report_window_start,
        report_window_end=cal.report_window_end,
    )
    session.add(cohort)
    session.flush()
    return cohort
