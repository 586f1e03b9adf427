"""A sheet with errors writes nothing and names every error's row and column; hostile files never crash."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable

import pytest
from sqlmodel import Session

from service.cohorts.rules import id_check_character
from service.imports.errors import ImportRejected
from service.imports.service import import_sheet
from tests.imports.sheets import column, counts, shared_rows, to_csv, to_xlsx

COHORT = "2020-2021"


def rejected(session: Session, data: bytes, name: str = "sheet.csv") -> ImportRejected:
    before = counts(session)
    with pytest.raises(ImportRejected) as caught:
        import_sheet(session, data, name, COHORT)
    session.rollback()
    assert counts(session) == before, "a rejected import must write nothing"
    return caught.value


def _with_check_digit(first17: str) -> str:
    return first17 + id_check_character(first17)


def test_every_error_in_the_sheet_is_listed_with_row_and_column(session: Session) -> None:
    header, rows = shared_rows()

    def set_(index: int, name: str, value: str) -> None:
        rows[index][column(header, name)] = value

    ident = column(header, "身份证号")
    sex = column(header, "性别")
    # Data row i is spreadsheet row i + 2 (the header is row 1).
    set_(0, "身份证号", rows[0][ident][:17])  # 17 characters
    last = rows[1][ident][17]
    set_(1, "身份证号", rows[1][ident][:17] + ("0" if last != "0" else "1"))  # wrong check digit
    set_(2, "身份证号", _with_check_digit("15050219970230" + rows[2][ident][14:17]))  # 30 February
    set_(3, "性别", "女" if rows[3][sex] == "男" else "男")
    set_(4, "身份证号", "1.50602199706117E+17")
    set_(5, "姓名", "  ")
    set_(6, "服务盟市", "火星市")
    set_(7, "服务旗县", "不存在旗")
    set_(8, "服务盟市", "兴安盟")
    set_(8, "服务旗县", "红山区")  # belongs to 赤峰市
    set_(9, "专项", "服务火星")
    set_(10, "项目类型", "省级项目")
    set_(11, "服务期限(年)", "4")
    set_(12, "报到日期", "2020-02-30")
    set_(13, "毕业时间", "2020-13")
    set_(14, "手机号码", "199777372281")
    set_(15, "电子邮箱", "not-an-email")
    set_(16, "研究生支教团", "有")
    set_(17, "报到日期", "31.07.2020")
    rows[19][ident], rows[19][sex] = rows[18][ident], rows[18][sex]  # same person twice

    error = rejected(session, to_csv(header, rows))

    report = error.report
    found = {(e.row, e.column) for e in report.errors}
    expected = {
        (2, "身份证号"),
        (3, "身份证号"),
        (4, "身份证号"),
        (5, "性别"),
        (6, "身份证号"),
        (7, "姓名"),
        (8, "服务盟市"),
        (9, "服务旗县"),
        (10, "服务旗县"),
        (11, "专项"),
        (12, "项目类型"),
        (13, "服务期限(年)"),
        (14, "报到日期"),
        (15, "毕业时间"),
        (16, "手机号码"),
        (17, "电子邮箱"),
        (18, "研究生支教团"),
        (19, "报到日期"),
        (20, "身份证号"),
        (21, "身份证号"),
    }
    assert found == expected
    assert report.status == "rejected" and report.error_count == len(report.errors) == 20
    by_row = {e.row: e for e in report.errors}
    assert "18位" in by_row[2].message
    assert "校验码" in by_row[3].message
    assert "出生日期" in by_row[4].message
    assert "不符" in by_row[5].message
    assert "Excel" in by_row[6].message and "“文本”格式" in by_row[6].message
    assert "必填" in by_row[7].message
    assert "赤峰市" in by_row[10].message
    assert "第21行" in by_row[20].message and "第20行" in by_row[21].message
    assert by_row[2].serial == "1" and by_row[2].text().startswith("第2行（序号1）【身份证号】")
    assert error.status == 422


def test_a_numeric_id_cell_in_xlsx_is_explained(session: Session) -> None:
    header, rows = shared_rows()

    def numeric_id(name: str, text: str) -> object:
        return float(text[:17]) * 10 if name == "身份证号" and text[-1] != "X" else text

    error = rejected(session, to_xlsx(header, rows[:3], numeric_id), "sheet.xlsx")

    messages = [e.message for e in error.report.errors if e.column == "身份证号"]
    assert messages and all("被Excel存成了数字" in m and "“文本”格式" in m for m in messages)


def test_missing_columns_are_named(session: Session) -> None:
    header, rows = shared_rows()
    keep = [i for i, h in enumerate(header) if h not in ("服务旗县", "报到日期")]

    error = rejected(session, to_csv([header[i] for i in keep], [[r[i] for i in keep] for r in rows]))

    (only,) = error.report.errors
    assert "服务旗县" in only.message and "报到日期" in only.message and error.status == 422


def test_header_only_sheet_is_refused(session: Session) -> None:
    header, _ = shared_rows()
    error = rejected(session, to_csv(header, []))
    assert "没有志愿者数据" in error.message


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (80 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "status", "words"),
    [
        ("empty.csv", lambda: b"", 400, "为空"),
        ("random.csv", lambda: os.urandom(20 * 1024 * 1024), 400, "二进制"),
        ("picture.csv", lambda: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, 400, "二进制"),
        ("fake.xlsx", lambda: "序号,姓名\n1,张三\n".encode(), 400, "不是有效的Excel"),
        ("old.xls", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, 400, ".xls"),
        ("truncated.xlsx", lambda: b"PK\x03\x04" + b"\0" * 100, 400, "损坏"),
        ("bomb.xlsx", _zip_bomb, 413, "压缩炸弹"),
        ("latin.csv", lambda: b"a,b,c\n1,2,3\n", 422, "表头"),
    ],
    ids=["empty", "random-20MB", "binary", "csv-named-xlsx", "xls", "truncated-zip", "zip-bomb", "no-header"],
)
def test_hostile_files_are_refused_with_a_reason(
    session: Session, name: str, make: Callable[[], bytes], status: int, words: str
) -> None:
    error = rejected(session, make(), name)

    assert error.status == status
    assert words in error.message
    assert error.report.errors[0].row in (None, 1)


def test_unreadable_zip_member_in_a_real_looking_workbook_is_refused(session: Session) -> None:
    header, rows = shared_rows()
    good = to_xlsx(header, rows[:5])
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            body = src.read(item)
            dst.writestr(item, body[: len(body) // 2] if item.filename.endswith("sheet1.xml") else body)

    error = rejected(session, broken.getvalue(), "half.xlsx")

    assert error.status == 400 and "Excel" in error.message
