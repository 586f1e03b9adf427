"""Recording annual appraisals under the 20% 优秀 cap, and what the grades make a volunteer eligible for.

The cap (实施方案 三(三)) is per cohort and service year: 优秀 grades for year N of a cohort may not
pass 20% of that cohort's volunteers serving a year N. The grade scale is data (AppraisalGrade); a
grade whose ``capped`` flag is set counts against the cap.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import date
from typing import Any, cast

from sqlmodel import Session, func, select

from service.appraisals.schemas import AppraisalIn, CapSummary, EligibilityRead, TermEligibility
from service.cohorts import rules
from service.errors import AppError, Conflict, NotFound
from service.users.scope import Scope, scoped_appraisals, scoped_terms
from service.volunteers.service import get_term_row
from storage.models import Appraisal, AppraisalGrade, Cohort, ServiceTerm
from storage.models.base import utcnow


def grade_scale(session: Session) -> dict[str, AppraisalGrade]:
    grades = session.exec(select(AppraisalGrade).order_by(AppraisalGrade.rank)).all()  # type: ignore[arg-type]
    return {g.code: g for g in grades}


def _check_grade(scale: dict[str, AppraisalGrade], grade: str) -> AppraisalGrade:
    if grade not in scale:
        valid = list(scale)
        raise AppError(
            f"考核等次“{grade}”无效，应为：{'、'.join(valid)}",
            status=422,
            code="unknown_grade",
            valid_grades=valid,
        )
    return scale[grade]


def _serving(session: Session, cohort_id: int, service_year: int) -> int:
    """Volunteers of the cohort whose agreed service reaches year ``service_year``: 当期在岗志愿者."""
    stmt = select(func.count()).where(
        ServiceTerm.cohort_id == cohort_id, ServiceTerm.agreed_years >= service_year
    )
    return session.exec(stmt.select_from(ServiceTerm)).one()


def _excellent(session: Session, cohort_id: int, service_year: int, capped: list[str]) -> int:
    stmt = (
        select(func.count())
        .select_from(Appraisal)
        .join(ServiceTerm, ServiceTerm.id == Appraisal.term_id)  # type: ignore[arg-type]
        .where(
            ServiceTerm.cohort_id == cohort_id,
            Appraisal.service_year == service_year,
            Appraisal.grade.in_(capped),  # type: ignore[attr-defined]
        )
    )
    return session.exec(stmt).one()


def record(session: Session, scope: Scope, user_id: int | None, items: list[AppraisalIn]) -> list[Appraisal]:
    """Record (or change) grades for many terms at once: all are written, or none.

    Every term must be in the caller's scope (404 otherwise, as if missing) and every year within the
    term's agreed service. A grade already recorded for the same term and year is replaced.
    """
    scale = grade_scale(session)
    capped = [g.code for g in scale.values() if g.capped]
    seen: set[tuple[int, int]] = set()
    for item in items:
        _check_grade(scale, item.grade)
        key = (item.term_id, item.service_year)
        if key in seen:
            raise AppError(
                f"服务记录{item.term_id}第{item.service_year}年的考核在本次提交中重复出现",
                status=422,
                code="duplicate_item",
            )
        seen.add(key)

    wanted = sorted({item.term_id for item in items})
    stmt = scoped_terms(scope).where(ServiceTerm.id.in_(wanted))  # type: ignore[union-attr]
    found = cast(list[ServiceTerm], session.exec(stmt).all())
    terms = {t.id: t for t in found if t.id is not None}
    missing = [term_id for term_id in wanted if term_id not in terms]
    if missing:
        # Out of scope reads the same as missing, so ids cannot be probed.
        raise NotFound(f"服务记录（编号{missing[0]}）不存在")
    for item in items:
        agreed = terms[item.term_id].agreed_years
        if item.service_year > agreed:
            raise AppError(
                f"服务记录{item.term_id}约定服务{agreed}年，不能记录第{item.service_year}年的考核",
                status=422,
                code="service_year_out_of_range",
            )

    existing = {
        (a.term_id, a.service_year): a
        for a in session.exec(
            select(Appraisal).where(Appraisal.term_id.in_(list(terms)))  # type: ignore[attr-defined]
        ).all()
    }

    # Net change in capped grades per (cohort, service year); a downgrade frees a place.
    delta: dict[tuple[int, int], int] = defaultdict(int)
    for item in items:
        before = existing.get((item.term_id, item.service_year))
        was = before is not None and before.grade in capped
        delta[(terms[item.term_id].cohort_id, item.service_year)] += int(item.grade in capped) - int(was)
    _check_cap(session, {k: v for k, v in delta.items() if v > 0}, capped)

    written = []
    for item in items:
        appraisal = existing.get((item.term_id, item.service_year))
        if appraisal is None:
            appraisal = Appraisal(term_id=item.term_id, service_year=item.service_year, grade=item.grade)
        appraisal.grade = item.grade
        appraisal.remarks = item.remarks
        appraisal.recorded_by_id = user_id
        appraisal.recorded_at = utcnow()
        session.add(appraisal)
        written.append(appraisal)
    session.flush()
    return written


def _check_cap(session: Session, adding: dict[tuple[int, int], int], capped: list[str]) -> None:
    if not adding:
        return
    # Lock the cohorts so two offices recording 优秀 at the same moment cannot both take the last place.
    cohort_ids = sorted({cohort_id for cohort_id, _ in adding})
    cohorts = {
        c.id: c
        for c in session.exec(
            select(Cohort)
            .where(Cohort.id.in_(cohort_ids))  # type: ignore[union-attr]
            .order_by(Cohort.id)  # type: ignore[arg-type]
            .with_for_update()
        ).all()
    }
    for (cohort_id, year), count in sorted(adding.items()):
        serving = _serving(session, cohort_id, year)
        excellent = _excellent(session, cohort_id, year, capped)
        try:
            rules.check_excellent_cap(serving, excellent, count)
        except rules.RuleViolation as exc:
            code = cohorts[cohort_id].code
            raise Conflict(
                f"{code}年度第{year}服务年：{exc.message}",
                code=exc.code,
                cohort=code,
                service_year=year,
                serving=serving,
                excellent=excellent,
                adding=count,
                allowed=rules.excellent_allowed(serving),
            ) from None


def list_appraisals(
    session: Session,
    scope: Scope,
    *,
    cohort: str | None,
    term_id: int | None,
    service_year: int | None,
    grade: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Appraisal], int]:
    stmt = scoped_appraisals(scope)
    if cohort is not None:
        stmt = stmt.where(ServiceTerm.cohort_id.in_(select(Cohort.id).where(Cohort.code == cohort)))  # type: ignore[attr-defined]
    if term_id is not None:
        stmt = stmt.where(Appraisal.term_id == term_id)
    if service_year is not None:
        stmt = stmt.where(Appraisal.service_year == service_year)
    if grade is not None:
        stmt = stmt.where(Appraisal.grade == grade)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(Appraisal.id).limit(limit).offset(offset)).all()
    return list(rows), total


def cap_summary(session: Session, cohort_code: str, service_year: int) -> CapSummary:
    """Where a cohort and service year stand against the 20% 优秀 cap. Counts only, no names."""
    cohort = session.exec(select(Cohort).where(Cohort.code == cohort_code)).first()
    if cohort is None or cohort.id is None:
        raise NotFound(f"年度“{cohort_code}”不存在")
    capped = [g.code for g in grade_scale(session).values() if g.capped]
    serving = _serving(session, cohort.id, service_year)
    excellent = _excellent(session, cohort.id, service_year, capped)
    allowed = rules.excellent_allowed(serving)
    return CapSummary(
        cohort_id=cohort.id,
        cohort_code=cohort.code,
        service_year=service_year,
        serving=serving,
        excellent=excellent,
        allowed=allowed,
        remaining=max(allowed - excellent, 0),
    )


def _eligibility_read(e: rules.Eligibility) -> EligibilityRead:
    data: dict[str, Any] = asdict(e)
    return EligibilityRead(**data)


def eligibility(session: Session, scope: Scope, term_id: int, today: date) -> TermEligibility:
    """Postgraduate bonus and fresh-graduate treatment for one term, from its grades. 实施方案 三(一)1–2.

    A term counts as completed once its agreed service has ended before ``today``; early departures
    are not recorded yet, so the agreed end is the last day served.
    """
    term = get_term_row(session, scope, term_id)
    end = rules.service_end(term.report_date, term.agreed_years)
    last_day = end if end < today else None
    rows = session.exec(
        scoped_appraisals(scope, select(Appraisal, AppraisalGrade))
        .join(AppraisalGrade, AppraisalGrade.code == Appraisal.grade)
        .where(Appraisal.term_id == term_id)
    ).all()
    grades = [rules.YearGrade(a.service_year, a.grade, g.qualified) for a, g in rows]
    notes = ["“参加项目前无工作经历”未在系统中登记，享受应届毕业生政策前须另行核实"]
    if term.graduate_teaching_corps:
        notes.append(
            "研究生支教团志愿者的2年期限自研究生毕业时开始计算，系统未登记研究生毕业时间，下列期限仅供参考"
        )
    return TermEligibility(
        term_id=term_id,
        service_end=end,
        completed=last_day is not None,
        postgraduate_bonus=_eligibility_read(rules.postgraduate_bonus(term.report_date, last_day, grades)),
        fresh_graduate_treatment=_eligibility_read(
            rules.fresh_graduate_treatment(term.report_date, last_day, grades)
        ),
        notes=notes,
    )
