"""Record snapshot → template context: the only code that knows the templates' field names.

Inputs are plain frozen dataclasses, not ORM rows, so a document can be re-rendered from the
snapshot stored with it and a template can be checked with sample data and no database. Formatting
that an office would do by hand (Chinese dates, 研究生支教团 after the track, ticked grade boxes)
happens here, so templates stay free of logic an uploader could get wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from doc_templates.kinds import AGREEMENT, APPRAISAL, CERTIFICATE, EVALUATION, NOTICE, Kind
from service.documents.codes import normalize_code, qr_payload

__all__ = [
    "GRADES",
    "AgreementData",
    "AppraisalData",
    "CertificateData",
    "DocumentData",
    "DocumentMeta",
    "EvaluationData",
    "NoticeData",
    "Person",
    "Placement",
    "QrCode",
    "build_context",
    "cn_date",
    "data_type",
    "kind_of",
]

GRADES = ("优秀", "合格", "基本合格", "不合格")  # 年度考核等次, as seeded in appraisalgrade
_YEAR_NUMERALS = {1: "一", 2: "二", 3: "三"}


@dataclass(frozen=True)
class QrCode:
    """A QR code to place in the document; render.py turns it into an image, whatever its field name."""

    payload: str
    size_mm: float = 24.0


@dataclass(frozen=True)
class DocumentMeta:
    number: str  # 文号 / 协议编号 / 证书编号
    code: str  # verification code
    issue_date: date
    public_url: str
    programme_year: int  # first year of the plan, e.g. 2020 for 2020—2021年度


@dataclass(frozen=True)
class Person:
    name: str
    sex: str
    ethnicity: str
    political_status: str
    id_number: str
    birth_date: date
    university: str
    degree: str
    major: str


@dataclass(frozen=True)
class Placement:
    project_type: str  # 全国项目 | 地方项目
    track: str  # 基础教育 …
    teaching_corps: bool  # 研究生支教团
    league: str
    county: str
    county_office: str
    unit: str
    post: str
    duties: str
    report_date: date  # service and seniority count from here (实施方案 三(一)4)
    agreed_years: int


@dataclass(frozen=True)
class NoticeData:
    meta: DocumentMeta
    person: Person
    placement: Placement
    report_start: date  # 实施方案 二(三)1: 7月20日至31日为集中报到和培训时间
    report_end: date
    signing_deadline: date  # 实施方案 二(三)3: 8月14日之前签订三方服务协议


@dataclass(frozen=True)
class AgreementData:
    meta: DocumentMeta
    person: Person
    placement: Placement
    year: int  # 第N年 of placement.agreed_years: one agreement per year
    start: date
    end: date
    monthly_allowance: int  # yuan


@dataclass(frozen=True)
class AppraisalData:
    meta: DocumentMeta
    person: Person
    placement: Placement
    service_year: int
    start: date
    end: date
    self_summary: str
    grade: str  # one of GRADES, or "" while the unit has not graded
    unit_opinion: str
    county_opinion: str


@dataclass(frozen=True)
class EvaluationData:
    meta: DocumentMeta
    person: Person
    placement: Placement
    start: date
    end: date  # last day actually served
    years_served: int
    grades: Sequence[str]  # one per service year, in order
    self_appraisal: str
    unit_opinion: str
    county_opinion: str
    region_opinion: str


@dataclass(frozen=True)
class CertificateData:
    meta: DocumentMeta
    person: Person
    placement: Placement
    start: date
    end: date
    years_served: int


DocumentData = NoticeData | AgreementData | AppraisalData | EvaluationData | CertificateData

_KIND_OF: dict[type, Kind] = {
    NoticeData: NOTICE,
    AgreementData: AGREEMENT,
    AppraisalData: APPRAISAL,
    EvaluationData: EVALUATION,
    CertificateData: CERTIFICATE,
}


def cn_date(day: date) -> str:
    """GB/T 9704-2012 dates: Arabic numerals, no leading zeros."""
    return f"{day.year}年{day.month}月{day.day}日"


def _year_span(start: date, end: date) -> str:
    return f"{start.year}—{end.year}年度" if start.year != end.year else f"{start.year}年度"


def _grade_marks(grade: str) -> str:
    if grade and grade not in GRADES:
        raise ValueError(f"unknown appraisal grade {grade!r}")
    return "　".join(("■" if g == grade else "□") + g for g in GRADES)


def kind_of(data: DocumentData) -> Kind:
    return _KIND_OF[type(data)]


def data_type(kind_code: str) -> type[DocumentData]:
    """The input dataclass of a kind, e.g. ``NoticeData`` for ``"notice"``."""
    for cls, kind in _KIND_OF.items():
        if kind.code == kind_code:
            return cls
    raise KeyError(kind_code)


def _doc(meta: DocumentMeta) -> dict[str, Any]:
    code = normalize_code(meta.code)
    url = qr_payload(meta.public_url, code)
    return {
        "number": meta.number,
        "code": code,
        "issue_date": cn_date(meta.issue_date),
        "programme": f"{meta.programme_year}—{meta.programme_year + 1}年度内蒙古大学生志愿服务西部计划",
        "verify_url": url,
        "qr": QrCode(url, size_mm=22.0),
    }


def _volunteer(p: Person) -> dict[str, Any]:
    return {
        "name": p.name,
        "sex": p.sex,
        "ethnicity": p.ethnicity,
        "political_status": p.political_status,
        "id_number": p.id_number,
        "birth_month": f"{p.birth_date.year}年{p.birth_date.month}月",
        "university": p.university,
        "degree": p.degree,
        "major": p.major,
    }


def _post(pl: Placement) -> dict[str, Any]:
    corps = "（研究生支教团）" if pl.teaching_corps else ""
    return {
        "project_type": pl.project_type,
        "track": pl.track,
        "track_text": f"{pl.track}专项{corps}",
        "teaching_corps": "是" if pl.teaching_corps else "否",
        "league": pl.league,
        "county": pl.county,
        "place": f"{pl.league}{pl.county}",
        "county_office": pl.county_office,
        "unit": pl.unit,
        "name": pl.post,
        "duties": pl.duties,
        "report_date": cn_date(pl.report_date),
        "agreed_years": pl.agreed_years,
    }


def _specific(data: DocumentData) -> dict[str, Any]:
    if isinstance(data, NoticeData):
        deadline = data.signing_deadline
        return {
            "report": {
                "start": cn_date(data.report_start),
                "end": cn_date(data.report_end),
                "deadline": f"{deadline.month}月{deadline.day}日",
            }
        }
    if isinstance(data, AgreementData):
        return {
            "term": {
                "year": data.year,
                "year_cn": _YEAR_NUMERALS.get(data.year, str(data.year)),
                "of_years": data.placement.agreed_years,
                "start": cn_date(data.start),
                "end": cn_date(data.end),
            },
            "allowance": {"monthly": f"{data.monthly_allowance:,}"},
        }
    if isinstance(data, AppraisalData):
        return {
            "appraisal": {
                "service_year": data.service_year,
                "year_label": _year_span(data.start, data.end),
                "start": cn_date(data.start),
                "end": cn_date(data.end),
                "self_summary": data.self_summary,
                "grade": data.grade,
                "grade_marks": _grade_marks(data.grade),
                "unit_opinion": data.unit_opinion,
                "county_opinion": data.county_opinion,
            }
        }
    if isinstance(data, EvaluationData):
        if len(data.grades) != data.years_served:
            raise ValueError(f"{data.years_served} years served but {len(data.grades)} annual grades")
        for g in data.grades:
            _grade_marks(g)
        grades = "；".join(f"第{n}年：{g}" for n, g in enumerate(data.grades, start=1))
        return {
            "service": _service(data.placement, data.start, data.end, data.years_served) | {"grades": grades},
            "evaluation": {
                "self_appraisal": data.self_appraisal,
                "unit_opinion": data.unit_opinion,
                "county_opinion": data.county_opinion,
                "region_opinion": data.region_opinion,
            },
        }
    return {"service": _service(data.placement, data.start, data.end, data.years_served)}


def _service(pl: Placement, start: date, end: date, years_served: int) -> dict[str, Any]:
    return {
        "start": cn_date(start),
        "end": cn_date(end),
        "report_date": cn_date(pl.report_date),
        "agreed_years": pl.agreed_years,
        "years_served": years_served,
    }


def build_context(data: DocumentData) -> dict[str, Any]:
    """The template context for one document; its top-level keys are exactly the kind's variables."""
    context = {
        "doc": _doc(data.meta),
        "volunteer": _volunteer(data.person),
        "post": _post(data.placement),
        **_specific(data),
    }
    expected = kind_of(data).variables
    if set(context) != expected:  # a programming error: kinds.py and this module disagree
        raise AssertionError(f"context keys {sorted(context)} differ from kind variables {sorted(expected)}")
    return context
