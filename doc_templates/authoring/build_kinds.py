"""Build the five built-in templates in ``doc_templates/kinds/`` (run: ``python -m doc_templates.authoring.build_kinds``).

The .docx files are committed, and they are what the registry versions by SHA-256; this script is
how they were made, so a wording change is a reviewable diff here rather than an opaque binary.
Output is deterministic: re-running without edits leaves every hash unchanged.

Wording follows the 2020–2021 implementation plan (内团联发〔2020〕10号); clauses it does not cover
(leave, termination, disputes) are kept to what the plan's parties can actually promise.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx.document import Document as DocumentObject

from doc_templates.authoring.docx_kit import (
    BODY,
    CENTER,
    HEADING,
    KAI,
    LEFT,
    RED,
    RIGHT,
    TITLE,
    anchor,
    bottom_rule,
    cell,
    new_document,
    page_border,
    para,
    row_height,
    save_deterministic,
    table,
    top_align,
)
from doc_templates.authoring.forms import appraisal, evaluation, label, value, verification, verify_line
from doc_templates.kinds import KINDS_DIR

MASTHEAD = "内蒙古自治区大学生志愿服务西部计划项目办公室"
REGION_OFFICE = "西部计划自治区项目办"


# --- 1. 确认通知书 --------------------------------------------------------------------------------


def notice() -> DocumentObject:
    doc = new_document(top=28, bottom=22, left=28, right=26, title="确认通知书")
    para(doc, MASTHEAD, font=TITLE, size=26, color=RED, align=CENTER, scale=74, line=34)
    p = para(doc, "{{ doc.number }}", size=16, align=CENTER, before=6, line=25)
    bottom_rule(p, space=8)
    para(doc, "大学生志愿服务西部计划志愿者", font=TITLE, size=22, align=CENTER, before=10, line=30)
    para(doc, "确认通知书", font=TITLE, size=22, align=CENTER, after=6, line=30)
    para(doc, "{{ volunteer.name }}同学：", line=25)
    para(
        doc,
        "经本人报名、高校项目办审核、自治区项目办组织选拔并通过西部计划体检，你已被确定为"
        "{{ doc.programme }}{{ post.project_type }}志愿者。现将有关事项通知如下：",
        indent=True,
        line=25,
    )
    t = table(doc, (22, 64, 22, 48), 5)
    rows = (
        (("姓　　名", "{{ volunteer.name }}"), ("性　　别", "{{ volunteer.sex }}")),
        (("毕业院校", "{{ volunteer.university }}"), ("学　　历", "{{ volunteer.degree }}")),
        (("专　　业", "{{ volunteer.major }}"), ("项目类型", "{{ post.project_type }}")),
        (("服务专项", "{{ post.track_text }}"), ("服务期限", "{{ post.agreed_years }}年")),
        (("服务地", "{{ post.place }}"), ("服务岗位", "{{ post.name }}")),
    )
    for r, ((l1, v1), (l2, v2)) in enumerate(rows):
        label(t, r, 0, l1)
        value(t, r, 1, v1)
        label(t, r, 2, l2)
        value(t, r, 3, v2)
        row_height(t, r, 7.5)
    t.add_row()
    label(t, 5, 0, "服务单位")
    value(t, 5, 1, "{{ post.unit }}", span=3)
    row_height(t, 5, 7.5)
    para(
        doc,
        [
            (HEADING, "一、"),
            (
                BODY,
                "{{ report.start }}至{{ report.end }}为集中报到和培训时间。请携本通知书、毕业证或学位证、"
                "本人身份证件按时报到，参加自治区项目办集中组织的培训（不少于4天）。",
            ),
        ],
        indent=True,
        line=25,
        before=6,
    )
    para(
        doc,
        [
            (HEADING, "二、"),
            (
                BODY,
                "{{ report.deadline }}之前，由服务县项目办、服务单位与你签订三方服务协议。"
                "西部计划志愿者服务期为1至3年，服务协议一年一签。",
            ),
        ],
        indent=True,
        line=25,
    )
    sign = table(doc, (40, 40, 76), 1, grid=False)
    verification(cell(sign, 0, 0), size=9)
    cell(sign, 0, 1)
    office = cell(sign, 0, 2)
    para(office, REGION_OFFICE, align=CENTER, before=6, line=25)
    anchor(office, "region_office")
    para(office, "{{ doc.issue_date }}", align=CENTER, line=25)
    verify_line(doc, "通知书")
    return doc


# --- 2. 三方服务协议 ------------------------------------------------------------------------------


def _article(doc: DocumentObject, number: str, heading: str, text: str, *, keep_next: bool = False) -> None:
    # The last article stays on the signature page, so that page never holds signatures alone.
    para(
        doc,
        [(HEADING, f"第{number}条　{heading}　"), (BODY, text)],
        size=14,
        indent=True,
        line=25,
        keep_next=keep_next,
    )


def agreement() -> DocumentObject:
    doc = new_document(top=30, bottom=28, left=28, right=26, title="三方服务协议")
    para(doc, "协议编号：{{ doc.number }}", size=12, align=RIGHT)
    para(doc, "大学生志愿服务西部计划", font=TITLE, size=22, align=CENTER, before=12, line=34)
    para(doc, "志愿者服务协议书", font=TITLE, size=22, align=CENTER, line=34)
    para(
        doc,
        "（服务期第{{ term.year_cn }}年　服务期共{{ term.of_years }}年）",
        font=KAI,
        size=16,
        align=CENTER,
        after=12,
        line=28,
    )
    for heading, text in (
        ("甲方（服务县项目办）：", "{{ post.county_office }}"),
        ("乙方（服务单位）：", "{{ post.unit }}"),
        (
            "丙方（志愿者）：",
            "{{ volunteer.name }}　　性别：{{ volunteer.sex }}　　民族：{{ volunteer.ethnicity }}",
        ),
        ("身份证号：", "{{ volunteer.id_number }}"),
        (
            "毕业院校：",
            "{{ volunteer.university }}　　学历：{{ volunteer.degree }}　　专业：{{ volunteer.major }}",
        ),
    ):
        para(doc, [(HEADING, heading), (BODY, text)], size=14, line=25, align=LEFT)
    para(
        doc,
        "根据《{{ doc.programme }}实施方案》（内团联发〔2020〕10号，以下简称《实施方案》），"
        "丙方为{{ doc.programme }}{{ post.project_type }}志愿者（{{ post.track_text }}）。"
        "为明确三方的权利和义务，经甲、乙、丙三方协商一致，签订本协议。",
        size=14,
        indent=True,
        line=25,
        before=8,
    )
    articles = (
        (
            "服务期限",
            "西部计划志愿者服务期为1至3年，服务协议一年一签。丙方服务期为{{ term.of_years }}年，本协议为"
            "服务期第{{ term.year }}年的协议，期限自{{ term.start }}起至{{ term.end }}止。丙方的服务期及工龄"
            "自其到基层报到之日（{{ post.report_date }}）起计算。",
        ),
        (
            "服务岗位",
            "丙方在乙方“{{ post.name }}”岗位服务，服务地为{{ post.place }}。主要职责：{{ post.duties }}。"
            "丙方应按照本协议约定的服务岗位上岗；因特殊原因确需调换岗位的，可按照有关规定申请调整，"
            "服务岗位原则上不得跨省调整。",
        ),
        (
            "工作生活补贴",
            "丙方的工作生活补贴由地方各级财政统筹中央财政补助资金和自身财力保障，按月发放，"
            "标准为每月人民币{{ allowance.monthly }}元。",
        ),
        (
            "社会保险和商业保险",
            "甲方为丙方落实社会保险，单位缴纳部分由地方财政承担，个人缴纳部分从丙方工作生活补贴中"
            "代扣代缴。甲方按照全国项目办有关要求，为丙方购买重大疾病、人身意外伤害等商业保险。",
        ),
        (
            "生活保障",
            "甲方、乙方为丙方提供交通、住宿和伙食等方面的便利。乙方为丙方提供必要的工作条件，"
            "做好丙方的安全健康管理。",
        ),
        (
            "请假",
            "丙方服务期间享受国家规定的法定节假日。丙方因病、因事请假，应事先向乙方提出申请，"
            "经乙方同意并报甲方备案。",
        ),
        (
            "年度考核",
            "甲方会同乙方对丙方进行年度考核，考核等次分为优秀、合格、基本合格、不合格。"
            "优秀等次志愿者数量原则上不超过当期在岗志愿者人数的20%，由自治区项目办统筹审定。"
            "考核结果记入丙方的服务鉴定表。",
        ),
        (
            "协议终止",
            "有下列情形之一的，本协议终止：（一）本协议期限届满；（二）丙方申请提前终止服务，"
            "经三方协商一致；（三）丙方严重违反西部计划有关管理规定，经甲方核实并报自治区项目办同意；"
            "（四）因不可抗力致使本协议无法履行。本协议期限届满时丙方服务期未满且年度考核合格的，"
            "三方另行签订下一年度服务协议。",
        ),
        (
            "争议解决",
            "三方因履行本协议发生争议的，应协商解决；协商不成的，可提请盟市项目办、自治区项目办协调处理。",
        ),
        (
            "其他",
            "本协议一式三份，甲、乙、丙三方各执一份，自三方签署之日起生效。"
            "三方以电子签名签署本协议的，电子签名与手写签名或者盖章具有同等效力。",
        ),
    )
    numerals = "一二三四五六七八九十"
    for n, (heading, text) in enumerate(articles):
        _article(doc, numerals[n], heading, text, keep_next=n == len(articles) - 1)
    para(doc, "（以下无正文）", size=14, align=CENTER, line=25, keep_next=True)
    sign = table(doc, (52, 52, 52), 1, grid=False)
    row_height(sign, 0, 50)
    for col, (party, caption) in enumerate(
        (("county_office", "甲方（盖章）"), ("unit", "乙方（盖章）"), ("volunteer", "丙方（签字）"))
    ):
        c = cell(sign, 0, col)
        top_align(c)
        para(c, caption, font=HEADING, size=14, align=CENTER, before=12)
        anchor(c, party, before=26, after=26)
        para(c, "年　　月　　日", size=14, align=CENTER)
    footer = table(doc, (30, 126), 1, grid=False)
    para(cell(footer, 0, 0), "{{ doc.qr }}", align=CENTER, size=9)
    c = cell(footer, 0, 1)
    para(c, "验证码：{{ doc.code }}", size=10.5, align=LEFT, before=16)
    para(c, "本协议以电子签名签署，签署后的电子文件为协议正本。", size=9, align=LEFT)
    para(c, "扫描二维码或访问{{ doc.verify_url }}可核验本协议真伪。", size=9, align=LEFT)
    return doc


# --- 3. 年度考核表 and 4. 服务鉴定表: see forms.py --------------------------------------------------


# --- 5. 服务证书 ----------------------------------------------------------------------------------


def certificate() -> DocumentObject:
    doc = new_document(top=24, bottom=18, left=30, right=30, landscape=True, title="服务证书")
    page_border(doc, color="B22222")
    para(doc, "证书编号：{{ doc.number }}", size=12, align=RIGHT)
    para(doc, "大学生志愿服务西部计划", font=KAI, size=20, align=CENTER, before=6, line=30)
    para(doc, "服 务 证 书", font=TITLE, size=36, align=CENTER, color="B22222", before=4, after=14, line=50)
    para(
        doc,
        "{{ volunteer.name }}同志于{{ service.start }}至{{ service.end }}参加{{ doc.programme }}"
        "（{{ post.project_type }}，{{ post.track_text }}），在{{ post.place }}{{ post.unit }}服务，"
        "实际服务{{ service.years_served }}年，服务期满，考核合格。"
        "其服务期及工龄自到基层报到之日（{{ service.report_date }}）起计算。",
        size=18,
        indent=True,
        line=34,
    )
    para(doc, "特发此证。", size=18, indent=True, line=34)
    sign = table(doc, (40, 97, 100), 1, grid=False)
    qr = cell(sign, 0, 0)
    verification(qr, size=9)
    cell(sign, 0, 1)
    office = cell(sign, 0, 2)
    para(office, REGION_OFFICE, size=18, align=CENTER, before=16, line=32)
    anchor(office, "region_office")
    para(office, "{{ doc.issue_date }}", size=18, align=CENTER, line=32)
    verify_line(doc, "证书")
    return doc


BUILDERS = {
    "notice": notice,
    "agreement": agreement,
    "appraisal": appraisal,
    "evaluation": evaluation,
    "certificate": certificate,
}


def build(out_dir: Path = KINDS_DIR) -> dict[str, Path]:
    """Write every template; returns kind code → path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for code, builder in BUILDERS.items():
        path = out_dir / f"{code}.docx"
        path.write_bytes(save_deterministic(builder()))
        written[code] = path
    return written


if __name__ == "__main__":
    for code, path in build(Path(sys.argv[1]) if len(sys.argv) > 1 else KINDS_DIR).items():
        print(code, path)
