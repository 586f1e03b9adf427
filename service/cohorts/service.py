"""Cohorts (年度): created on first use with the plan's default calendar."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from service.cohorts.rules import default_calendar, parse_cohort_code
from service.errors import AppError, Conflict, NotFound
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


def create(
    session: Session,
    code: str,
    *,
    name: str | None = None,
    signing_deadline: date | None = None,
    report_window_start: date | None = None,
    report_window_end: date | None = None,
) -> Cohort:
    """A new cohort; dates not given default to the plan's calendar. An existing code is a conflict."""
    start_year = parse_cohort_code(code)
    if session.exec(select(Cohort).where(Cohort.code == code)).first() is not None:
        raise Conflict(f"年度“{code}”已存在")
    cal = default_calendar(start_year)
    start = report_window_start or cal.report_window_start
    end = report_window_end or cal.report_window_end
    if end < start:
        raise AppError("报到截止日期不能早于报到开始日期", status=422, code="bad_window")
    cohort = Cohort(
        code=code,
        name=name or f"{start_year}—{start_year + 1}年度内蒙古大学生志愿服务西部计划",
        start_year=start_year,
        signing_deadline=signing_deadline or cal.signing_deadline,
        report_window_start=start,
        report_window_end=end,
    )
    session.add(cohort)
    session.flush()
    return cohort


def get(session: Session, cohort_id: int) -> Cohort:
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        raise NotFound(f"年度（编号{cohort_id}）不存在")
    return cohort


def list_all(session: Session) -> list[Cohort]:
    return list(session.exec(select(Cohort).order_by(Cohort.start_year.desc())).all())  # type: ignore[attr-defined]
