"""Invented sample data for each kind: used to check uploaded templates and in the rendering tests.

The people are made up. They are chosen to be awkward: names with characters outside the basic CJK
block (𠮷 U+20BB7 is in Extension B, 䶮 and 㛃 in Extension A) and a unit whose name carries XML
markup characters and quotes, so a template that breaks on them is refused before it is activated.
"""

from __future__ import annotations

from datetime import date

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

__all__ = ["SAMPLE_CODE", "SAMPLE_PERSON", "SAMPLE_PLACEMENT", "SAMPLE_UNIT", "sample"]

SAMPLE_CODE = "7KQ3-M9XD-2HFA-0RTV"
SAMPLE_UNIT = '新巴尔虎右旗"青年之家" & <志愿者>服务站'

SAMPLE_PERSON = Person(
    name="王𠮷堃",
    sex="女",
    ethnicity="蒙古族",
    political_status="共青团员",
    id_number="150602199706117147",
    birth_date=date(1997, 6, 11),
    university="内蒙古师范大学",
    degree="本科",
    major="汉语言文学",
)
SECOND_PERSON = Person(
    name="李䶮㛃",
    sex="男",
    ethnicity="汉族",
    political_status="中共党员",
    id_number="150902199609117598",
    birth_date=date(1996, 9, 11),
    university="中国农业大学",
    degree="硕士研究生",
    major="农业水土工程",
)

SAMPLE_PLACEMENT = Placement(
    project_type="全国项目",
    track="基础教育",
    teaching_corps=True,
    league="呼伦贝尔市",
    county="新巴尔虎右旗",
    county_office="共青团新巴尔虎右旗委员会（新巴尔虎右旗西部计划项目办）",
    unit=SAMPLE_UNIT,
    post="语文教师",
    duties="承担初中语文课程教学，参与学校青少年读书活动的组织工作",
    report_date=date(2020, 7, 31),
    agreed_years=2,
)


def _meta(number: str, issued: date, code: str = SAMPLE_CODE) -> DocumentMeta:
    return DocumentMeta(
        number=number, code=code, issue_date=issued, public_url="https://xibu.example.cn", programme_year=2020
    )


def sample(kind: str) -> DocumentData:
    """Complete sample input for ``kind``: every field filled, none of it real."""
    if kind == "notice":
        return NoticeData(
            meta=_meta("内蒙西部办〔2020〕第0001号", date(2020, 7, 1)),
            person=SAMPLE_PERSON,
            placement=SAMPLE_PLACEMENT,
            report_start=date(2020, 7, 20),
            report_end=date(2020, 7, 31),
            signing_deadline=date(2020, 8, 14),
        )
    if kind == "agreement":
        return AgreementData(
            meta=_meta("XB2020-150727-0001-1", date(2020, 8, 10)),
            person=SAMPLE_PERSON,
            placement=SAMPLE_PLACEMENT,
            year=1,
            start=date(2020, 7, 31),
            end=date(2021, 7, 30),
            monthly_allowance=2500,
        )
    if kind == "appraisal":
        return AppraisalData(
            meta=_meta("KH2021-0001", date(2021, 7, 10)),
            person=SAMPLE_PERSON,
            placement=SAMPLE_PLACEMENT,
            service_year=1,
            start=date(2020, 7, 31),
            end=date(2021, 7, 30),
            self_summary=(
                "服务一年来，本人认真完成初中语文教学任务，所带班级语文成绩稳步提高；"
                "组织学生读书会12次，参与学校疫情防控志愿服务。今后将继续加强教学研究，"
                "虚心向当地教师学习，努力做一名合格的西部计划志愿者。"
            ),
            grade="优秀",
            unit_opinion="该同志工作认真负责，教学效果良好，遵守学校各项规章制度，同意评定为优秀等次。",
            county_opinion="同意服务单位意见。",
        )
    if kind == "evaluation":
        return EvaluationData(
            meta=_meta("JD2022-0001", date(2022, 7, 20)),
            person=SAMPLE_PERSON,
            placement=SAMPLE_PLACEMENT,
            start=date(2020, 7, 31),
            end=date(2022, 7, 30),
            years_served=2,
            grades=("优秀", "合格"),
            self_appraisal=(
                "两年来，本人坚守教学岗位，完成初中语文教学和班主任工作，"
                "组织读书活动和暑期支教，提升了教学能力，也加深了对基层的了解。"
            ),
            unit_opinion="该同志服务期间表现良好，爱岗敬业，团结同事，服务期满，鉴定合格。",
            county_opinion="同意服务单位鉴定意见。",
            region_opinion="服务期满，考核合格。",
        )
    if kind == "certificate":
        return CertificateData(
            meta=_meta("内蒙西部证〔2022〕第0001号", date(2022, 7, 31)),
            person=SECOND_PERSON,
            placement=SAMPLE_PLACEMENT,
            start=date(2020, 7, 31),
            end=date(2022, 7, 30),
            years_served=2,
        )
    raise KeyError(f"no sample for kind {kind!r}")
