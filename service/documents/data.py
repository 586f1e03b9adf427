"""Records → document data: reads the database once per document and returns plain dataclasses.

The dataclasses (``doc_templates.context``) are what gets snapshotted with each document, so a
document can be re-rendered exactly from its snapshot after the records change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from doc_templates.context import (
    AgreementData,
    AppraisalData,
    CertificateData,
    DocumentData,
    DocumentMeta,
    EvaluationData,
    NoticeData,
    Person,
    Placement,
)
from service.cohorts.rules import agreement_periods, full_years_served, service_end
from service.errors import AppError, NotFound
from storage.models import Appraisal, Cohort, Organization, Post, ServiceTerm, Volunteer

NUMBER_PREFIX = {
    "notice": "内蒙西部办",
    "agreement": "内蒙西部协",
    "appraisal": "内蒙西部考",
    "evaluation": "内蒙西部鉴",
    "certificate": "内蒙西部证",
}
_TRACK_DUTIES = {
    "基础教育": "在县级以下中小学从事教学等基础教育工作",
    "服务三农": "在县乡参与精准扶贫、农业科技与管理等服务三农工作",
    "医疗卫生": "在县乡基层卫生部门和医疗院所从事卫生防疫、管理、诊治等工作",
    "基层青年工作": "在县级及以下共青团、青年之家等从事团的基层组织建设和青年工作",
    "基层社会管理": "在县直和乡镇部门单位从事社会公共管理和公共事务工作",
}


@dataclass(frozen=True)
class TermRecord:
    """Everything about one service term that documents print."""

    term: ServiceTerm
    volunteer: Volunteer
    post: Post
    unit: Organization
    cohort: Cohort


def document_number(kind: str, cohort: Cohort, term: ServiceTerm, *, year: int | None = None) -> str:
    """Deterministic, so a resumed batch can never hand out a number twice: prefix〔year〕term-id号."""
    suffix = f"-{year}" if year else ""
    return f"{NUMBER_PREFIX[kind]}〔{cohort.start_year}〕第{term.id:05d}{suffix}号"


def reissued(data: DocumentData, generation: int) -> DocumentData:
    """The same document data numbered as its ``generation``-th issue, e.g. …号（2）."""
    return replace(data, meta=replace(data.meta, number=f"{data.meta.number}（{generation}）"))


def load_terms(session: Session, term_ids: list[int]) -> dict[int, TermRecord]:
    """Many terms in one query, for batches."""
    rows = session.execute(
        sa_select(ServiceTerm, Volunteer, Post, Organization, Cohort)
        .join(Volunteer, col(Volunteer.id) == ServiceTerm.volunteer_id)
        .join(Post, col(Post.id) == ServiceTerm.post_id)
        .join(Organization, col(Organization.id) == Post.unit_id)
        .join(Cohort, col(Cohort.id) == ServiceTerm.cohort_id)
        .where(col(ServiceTerm.id).in_(term_ids))
    ).all()
    return {t.id: TermRecord(t, v, p, u, c) for t, v, p, u, c in rows if t.id is not None}


def load_term(session: Session, term_id: int) -> TermRecord:
    found = load_terms(session, [term_id]).get(term_id)
    if found is None:
        raise NotFound(f"服务记录{term_id}不存在")
    return found


def person(v: Volunteer) -> Person:
    return Person(
        name=v.name,
        sex=v.sex,
        ethnicity=v.ethnicity,
        political_status=v.political_status,
        id_number=v.id_number,
        birth_date=v.birth_date,
        university=v.university,
        degree=v.degree,
        major=v.major,
    )


def placement(rec: TermRecord) -> Placement:
    return Placement(
        project_type=rec.term.project_type,
        track=rec.post.track,
        teaching_corps=rec.term.graduate_teaching_corps,
        league=rec.post.league,
        county=rec.post.county,
        county_office=f"{rec.post.county}西部计划项目办",
        unit=rec.unit.name,
        post=rec.post.title,
        duties=_TRACK_DUTIES.get(rec.post.track, f"从事{rec.post.title}相关工作"),
        report_date=rec.term.report_date,
        agreed_years=rec.term.agreed_years,
    )


def notice_data(rec: TermRecord, *, code: str, issue_date: date, public_url: str) -> NoticeData:
    return NoticeData(
        meta=_meta("notice", rec, code, issue_date, public_url),
        person=person(rec.volunteer),
        placement=placement(rec),
        report_start=rec.cohort.report_window_start,
        report_end=rec.cohort.report_window_end,
        signing_deadline=rec.cohort.signing_deadline,
    )


def planned_end(rec: TermRecord) -> date:
    return service_end(rec.term.report_date, rec.term.agreed_years)


def _meta(
    kind: str, rec: TermRecord, code: str, issue_date: date, public_url: str, year: int | None = None
) -> DocumentMeta:
    return DocumentMeta(
        number=document_number(kind, rec.cohort, rec.term, year=year),
        code=code,
        issue_date=issue_date,
        public_url=public_url,
        programme_year=rec.cohort.start_year,
    )


def agreement_data(
    rec: TermRecord, year: int, *, code: str, issue_date: date, public_url: str, monthly_allowance: int
) -> AgreementData:
    """The agreement for service year ``year`` (实施方案 一: 服务协议一年一签)."""
    periods = agreement_periods(rec.term.report_date, rec.term.agreed_years)
    if not 1 <= year <= len(periods):
        raise AppError(f"服务年度应为1至{len(periods)}，实际为{year}", status=422, code="bad_service_year")
    period = periods[year - 1]
    return AgreementData(
        meta=_meta("agreement", rec, code, issue_date, public_url, year),
        person=person(rec.volunteer),
        placement=placement(rec),
        year=year,
        start=period.start,
        end=period.end,
        monthly_allowance=monthly_allowance,
    )


def grades_by_year(session: Session, term_id: int) -> dict[int, Appraisal]:
    rows = session.exec(select(Appraisal).where(Appraisal.term_id == term_id)).all()
    return {a.service_year: a for a in rows}


def appraisal_data(
    session: Session, rec: TermRecord, year: int, *, code: str, issue_date: date, public_url: str
) -> AppraisalData:
    periods = agreement_periods(rec.term.report_date, rec.term.agreed_years)
    if not 1 <= year <= len(periods):
        raise AppError(f"服务年度应为1至{len(periods)}，实际为{year}", status=422, code="bad_service_year")
    assert rec.term.id is not None
    graded = grades_by_year(session, rec.term.id).get(year)
    return AppraisalData(
        meta=_meta("appraisal", rec, code, issue_date, public_url, year),
        person=person(rec.volunteer),
        placement=placement(rec),
        service_year=year,
        start=periods[year - 1].start,
        end=periods[year - 1].end,
        self_summary="",
        grade=graded.grade if graded else "",
        unit_opinion=(graded.remarks or "") if graded else "",
        county_opinion="",
    )


def _served(session: Session, rec: TermRecord, last_day: date | None) -> tuple[date, int, list[str]]:
    end = last_day or planned_end(rec)
    years = full_years_served(rec.term.report_date, end)
    assert rec.term.id is not None
    graded = grades_by_year(session, rec.term.id)
    missing = [n for n in range(1, years + 1) if n not in graded]
    if missing:
        raise AppError(
            "、".join(f"第{n}年" for n in missing) + "尚未记录年度考核，不能出具",
            status=409,
            code="appraisal_missing",
        )
    return end, years, [graded[n].grade for n in range(1, years + 1)]


def _service_fields(
    session: Session,
    kind: str,
    rec: TermRecord,
    code: str,
    issue_date: date,
    public_url: str,
    last_day: date | None,
) -> tuple[dict[str, Any], list[str]]:
    """What a 服务鉴定表 and a 服务证书 share: the service period actually served, every year appraised."""
    end, years, grades = _served(session, rec, last_day)
    fields = {
        "meta": _meta(kind, rec, code, issue_date, public_url),
        "person": person(rec.volunteer),
        "placement": placement(rec),
        "start": rec.term.report_date,
        "end": end,
        "years_served": years,
    }
    return fields, grades


def evaluation_data(
    session: Session,
    rec: TermRecord,
    *,
    code: str,
    issue_date: date,
    public_url: str,
    last_day: date | None = None,
) -> EvaluationData:
    fields, grades = _service_fields(session, "evaluation", rec, code, issue_date, public_url, last_day)
    return EvaluationData(
        **fields,
        grades=tuple(grades),
        self_appraisal="",
        unit_opinion="",
        county_opinion="",
        region_opinion="",
    )


def certificate_data(
    session: Session,
    rec: TermRecord,
    *,
    code: str,
    issue_date: date,
    public_url: str,
    last_day: date | None = None,
) -> CertificateData:
    fields, _grades = _service_fields(session, "certificate", rec, code, issue_date, public_url, last_day)
    return CertificateData(**fields)
