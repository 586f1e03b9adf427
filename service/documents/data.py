"""Records → document data: reads the database once per document and returns plain dataclasses.

The dataclasses (``doc_templates.context``) are what gets snapshotted with each document, so a
document can be re-rendered exactly from its snapshot after the records change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from doc_templates.context import DocumentMeta, NoticeData, Person, Placement
from service.cohorts.rules import service_end
from service.errors import NotFound
from storage.models import Cohort, Organization, OrgKind, Post, ServiceTerm, Volunteer

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


def document_number(
    kind: str, cohort: Cohort, term: ServiceTerm, *, year: int | None = None, generation: int = 1
) -> str:
    """Deterministic, so a resumed batch can never hand out a number twice: prefix〔year〕term-id号."""
    suffix = f"-{year}" if year else ""
    again = f"（{generation}）" if generation > 1 else ""
    return f"{NUMBER_PREFIX[kind]}〔{cohort.start_year}〕第{term.id:05d}{suffix}号{again}"


def load_terms(session: Session, term_ids: list[int]) -> dict[int, TermRecord]:
    """Many terms in one query, for batches."""
    rows = session.exec(
        select(ServiceTerm, Volunteer, Post, Organization, Cohort)
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
    meta = DocumentMeta(
        number=document_number("notice", rec.cohort, rec.term),
        code=code,
        issue_date=issue_date,
        public_url=public_url,
        programme_year=rec.cohort.start_year,
    )
    return NoticeData(
        meta=meta,
        person=person(rec.volunteer),
        placement=placement(rec),
        report_start=rec.cohort.report_window_start,
        report_end=rec.cohort.report_window_end,
    )


def planned_end(rec: TermRecord) -> date:
    return service_end(rec.term.report_date, rec.term.agreed_years)


__all__ = ["OrgKind", "TermRecord", "document_number", "load_term", "load_terms", "notice_data", "placement"]
