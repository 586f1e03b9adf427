"""Shared cell helpers and the two forms (年度考核表, 服务鉴定表); used by build_kinds.py.

Forms are tables an office fills and stamps: labels in 黑体, values in 仿宋, an opinion row per party
with its signature anchor under "（盖章）", the QR code at the top right where a reader looks first.
"""

from __future__ import annotations

from docx.document import Document as DocumentObject

from doc_templates.authoring.docx_kit import (
    CENTER,
    HEADING,
    KAI,
    LEFT,
    RIGHT,
    TITLE,
    Container,
    anchor,
    cell,
    new_document,
    para,
    row_height,
    table,
    top_align,
)

# In form cells the anchor (the stamp's centre) sits under the middle of "……（盖章）", clear of the edge.
_STAMP_INDENT = 84


# --- cells -------------------------------------------------------------------------------------


def verification(where: Container, *, size: float = 9) -> None:
    para(where, "{{ doc.qr }}", align=CENTER, size=size)
    para(where, "验证码：{{ doc.code }}", align=CENTER, size=size - 1.5)


def verify_line(where: Container, what: str, size: float = 9) -> None:
    para(where, f"扫描二维码或访问{{{{ doc.verify_url }}}}可核验本{what}真伪。", align=CENTER, size=size)


def label(t: object, row: int, col: int, text: str, span: int = 1, size: float = 11) -> None:
    c = cell(t, row, col, span)  # type: ignore[arg-type]
    para(c, text, font=HEADING, size=size, align=CENTER)


def value(t: object, row: int, col: int, text: str, span: int = 1, size: float = 10.5) -> None:
    c = cell(t, row, col, span)  # type: ignore[arg-type]
    para(c, text, size=size, align=CENTER)


def _opinion(
    t: object, row: int, caption: str, body: str, party: str, sign: str, height: float, extra: str = ""
) -> None:
    """A form row: caption on the left; opinion text, then signature line, anchor and date at the right."""
    label(t, row, 0, caption)
    c = cell(t, row, 1, 5)  # type: ignore[arg-type]
    top_align(c)
    para(c, body, size=12, indent=True, line=20, before=4)
    if extra:
        para(c, extra, size=12, line=20, before=4)
    para(c, sign, size=12, align=RIGHT, before=8, right_indent=60)
    anchor(c, party, align=RIGHT, before=4, after=4, right_indent=_STAMP_INDENT)
    para(c, "年　　月　　日", size=12, align=RIGHT, right_indent=24, after=4)
    row_height(t, row, height)  # type: ignore[arg-type]


_FORM_COLUMNS = (24, 34, 22, 28, 28, 24)  # 160 mm: A4 less 25 mm margins


def _form_head(doc: DocumentObject, title: str, subtitle: str) -> None:
    """Title centred, QR code at the right: the code sits where a reader of a form looks first."""
    head = table(doc, (32, 96, 32), 1, grid=False)
    number = cell(head, 0, 0)
    para(number, "编号：", size=9, align=LEFT, before=36)
    para(number, "{{ doc.number }}", size=9, align=LEFT)
    c = cell(head, 0, 1)
    para(c, title, font=TITLE, size=20, align=CENTER, before=12, line=32)
    para(c, subtitle, font=KAI, size=12, align=CENTER, line=22)
    q = cell(head, 0, 2)
    para(q, "{{ doc.qr }}", align=RIGHT, size=9)


def _form_foot(doc: DocumentObject, what: str) -> None:
    para(
        doc,
        f"验证码：{{{{ doc.code }}}}　扫描二维码或访问{{{{ doc.verify_url }}}}可核验本{what}真伪。",
        size=8,
        align=CENTER,
        before=3,
    )


def _data_rows(t: object, rows: tuple[tuple[tuple[str, str, int], ...], ...], start: int = 0) -> int:
    for r, row in enumerate(rows, start=start):
        col = 0
        for caption, text, span in row:
            label(t, r, col, caption)
            value(t, r, col + 1, text, span=span)
            col += 1 + span
        row_height(t, r, 9)  # type: ignore[arg-type]
    return start + len(rows)


def appraisal() -> DocumentObject:
    doc = new_document(top=20, bottom=15, left=25, right=25, title="年度考核表")
    _form_head(
        doc,
        "西部计划志愿者年度考核表",
        "（{{ appraisal.year_label }}　第{{ appraisal.service_year }}服务年度）",
    )
    t = table(doc, _FORM_COLUMNS, 9)
    r = _data_rows(
        t,
        (
            (
                ("姓名", "{{ volunteer.name }}", 1),
                ("性别", "{{ volunteer.sex }}", 1),
                ("民族", "{{ volunteer.ethnicity }}", 1),
            ),
            (
                ("政治面貌", "{{ volunteer.political_status }}", 1),
                ("学历", "{{ volunteer.degree }}", 1),
                ("专业", "{{ volunteer.major }}", 1),
            ),
            (("毕业院校", "{{ volunteer.university }}", 3), ("项目类型", "{{ post.project_type }}", 1)),
            (("服务专项", "{{ post.track_text }}", 3), ("服务岗位", "{{ post.name }}", 1)),
            (("服务单位", "{{ post.place }}　{{ post.unit }}", 5),),
            (("考核期间", "{{ appraisal.start }}至{{ appraisal.end }}", 5),),
        ),
    )
    label(t, r, 0, "个人总结")
    c = cell(t, r, 1, 5)
    top_align(c)
    para(c, "{{ appraisal.self_summary }}", size=12, indent=True, line=20, before=4)
    para(c, "本人签字：", size=12, align=RIGHT, before=8, right_indent=60)
    anchor(c, "volunteer", align=RIGHT, before=4, after=4, right_indent=_STAMP_INDENT)
    para(c, "年　　月　　日", size=12, align=RIGHT, right_indent=24, after=4)
    row_height(t, r, 68)
    _opinion(
        t, r + 1, "服务单位\n意见", "{{ appraisal.unit_opinion }}", "unit", "服务单位（盖章）", 44,
        extra="考核等次：{{ appraisal.grade_marks }}",
    )  # fmt: skip
    _opinion(
        t,
        r + 2,
        "服务县\n项目办\n意见",
        "{{ appraisal.county_opinion }}",
        "county_office",
        "服务县项目办（盖章）",
        34,
    )
    _form_foot(doc, "考核表")
    return doc


def evaluation() -> DocumentObject:
    doc = new_document(top=18, bottom=15, left=25, right=25, title="服务鉴定表")
    _form_head(doc, "西部计划志愿者服务鉴定表", "{{ doc.programme }}")
    t = table(doc, _FORM_COLUMNS, 12)
    r = _data_rows(
        t,
        (
            (
                ("姓名", "{{ volunteer.name }}", 1),
                ("性别", "{{ volunteer.sex }}", 1),
                ("出生年月", "{{ volunteer.birth_month }}", 1),
            ),
            (
                ("民族", "{{ volunteer.ethnicity }}", 1),
                ("政治面貌", "{{ volunteer.political_status }}", 1),
                ("学历", "{{ volunteer.degree }}", 1),
            ),
            (("毕业院校", "{{ volunteer.university }}", 3), ("专业", "{{ volunteer.major }}", 1)),
            (("项目类型", "{{ post.project_type }}", 1), ("服务专项", "{{ post.track_text }}", 3)),
            (("服务单位", "{{ post.place }}　{{ post.unit }}", 3), ("服务岗位", "{{ post.name }}", 1)),
            (
                ("报到日期", "{{ service.report_date }}", 1),
                ("服务期限", "{{ service.agreed_years }}年", 1),
                ("实际服务年限", "{{ service.years_served }}年", 1),
            ),
            (("服务时间", "{{ service.start }}至{{ service.end }}（服务期及工龄自报到之日起算）", 5),),
            (("年度考核", "{{ service.grades }}", 5),),
        ),
    )
    _opinion(t, r, "自我鉴定", "{{ evaluation.self_appraisal }}", "volunteer", "本人签字：", 38)
    _opinion(t, r + 1, "服务单位\n鉴定意见", "{{ evaluation.unit_opinion }}", "unit", "服务单位（盖章）", 30)
    _opinion(
        t,
        r + 2,
        "服务县\n项目办\n意见",
        "{{ evaluation.county_opinion }}",
        "county_office",
        "服务县项目办（盖章）",
        27,
    )
    _opinion(
        t,
        r + 3,
        "自治区\n项目办\n意见",
        "{{ evaluation.region_opinion }}",
        "region_office",
        "自治区项目办（盖章）",
        27,
    )
    _form_foot(doc, "鉴定表")
    return doc
