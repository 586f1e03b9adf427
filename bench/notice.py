"""A one-page notice like the real ones (Chinese title and body, a table, a QR image), built with python-docx.

The bench needs many distinct documents without depending on the templates' state.
"""

from __future__ import annotations

import io

import segno
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲"


def person(i: int) -> str:
    """A distinct name per index, so a leak of one person's name into another's PDF is detectable."""
    a = GIVEN[i % len(GIVEN)]
    b = GIVEN[(i // len(GIVEN)) % len(GIVEN)]
    return f"{SURNAMES[(i * 7) % len(SURNAMES)]}{a}{b}"


def _font(run, east_asia: str, size: float, bold: bool = False) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = "Times New Roman"
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asia)


def notice_docx(i: int) -> bytes:
    doc = Document()
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run("大学生志愿服务西部计划\n志愿者录用通知书"), "方正小标宋简体", 22, bold=True)
    _font(doc.add_paragraph().add_run(f"{person(i)} 同志："), "仿宋_GB2312", 16)
    body = (
        "经个人报名、高校项目办审核、服务省项目办复核，你已被确定为2020—2021年度大学生志愿服务西部计划"
        "志愿者，服务地为内蒙古自治区。请于2020年8月14日前持本通知书及身份证到服务省项目办报到。"
        "服务期间请遵守服务单位的各项规章制度，认真履行志愿者义务。"
    )
    for _ in range(2):
        _font(doc.add_paragraph().add_run(body), "仿宋_GB2312", 16)
    table = doc.add_table(rows=4, cols=4)
    table.style = "Table Grid"
    cells = [
        ("姓名", person(i), "编号", f"NM2020{i:05d}"),
        ("服务县", "阿拉善左旗", "服务单位", "巴彦浩特镇人民政府"),
        ("服务期", "一年", "专项", "基层青年工作"),
        ("报到地点", "呼和浩特市", "联系电话", "0471-0000000"),
    ]
    for r, row in enumerate(cells):
        for c, text in enumerate(row):
            _font(table.cell(r, c).paragraphs[0].add_run(text), "黑体" if c % 2 == 0 else "宋体", 12)
    qr = io.BytesIO()
    segno.make(f"https://xibu.example/v/{i:08d}", error="m").save(qr, kind="png", scale=4)
    qr.seek(0)
    doc.add_picture(qr, width=Mm(30))
    _font(doc.add_paragraph().add_run("共青团中央 教育部 财政部 人力资源社会保障部"), "仿宋_GB2312", 16)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
