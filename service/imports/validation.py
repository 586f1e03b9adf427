"""Sheet rows → clean volunteer records, or every reason each row is wrong (row, column, Chinese message).

Pure: no database, no clock (the caller passes ``today``). Collects all errors instead of stopping at
the first, so that the office fixes its sheet in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import cast

from email_validator import EmailNotValidError, validate_email

from service.cohorts.regions import regions
from service.cohorts.rules import PROJECT_TYPES, TRACKS, RuleViolation, check_service_years, parse_id_number
from service.imports.cleaning import clean_code, clean_header, clean_name, clean_text
from service.imports.readers import SheetRow

__all__ = ["COLUMNS", "REQUIRED_COLUMNS", "Record", "RowError", "locate_columns", "validate_rows"]

SERIAL = "序号"
COLUMNS = (
    *(
        SERIAL,
        "姓名",
        "性别",
        "民族",
        "政治面貌",
        "身份证号",
        "手机号码",
        "电子邮箱",
        "毕业院校",
        "学历",
        "专业",
    ),
    *("毕业时间", "项目类型", "专项", "研究生支教团", "服务盟市", "服务旗县", "服务单位", "岗位名称"),
    *("县级及以上机关", "服务期限(年)", "报到日期"),
)
REQUIRED_COLUMNS = tuple(c for c in COLUMNS if c != SERIAL)
OPTIONAL_VALUES = frozenset({SERIAL, "电子邮箱"})
# Headers other offices' templates use for the same thing (compared after clean_header).
ALIASES = {
    "身份证号码": "身份证号",
    "公民身份号码": "身份证号",
    "手机号": "手机号码",
    "联系电话": "手机号码",
    "邮箱": "电子邮箱",
    "服务期限": "服务期限(年)",
    "服务年限(年)": "服务期限(年)",
    "是否研究生支教团": "研究生支教团",
    "是否县级及以上机关": "县级及以上机关",
}
POLITICAL_STATUSES = (
    *("中共党员", "中共预备党员", "共青团员", "群众", "民革党员", "民盟盟员", "民建会员", "民进会员"),
    *("农工党党员", "致公党党员", "九三学社社员", "台盟盟员", "无党派人士"),
)
DEGREES = ("专科", "本科", "硕士研究生", "博士研究生")
# Column widths of the tables the records go into.
MAX_LENGTHS = {"姓名": 50, "民族": 20, "电子邮箱": 200, "毕业院校": 100, "专业": 100, "服务单位": 200}
MAX_LENGTHS |= {"岗位名称": 100}

_EXCEL_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?[eE][+-]?\d+")
_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_MONTH = re.compile(r"(\d{4})[-/.年](\d{1,2})月?(?:[-/.]\d{1,2}日?)?")
_COMPACT_MONTH = re.compile(r"(\d{4})(\d{2})")
_EXCEL_FIX = "请把该列设置为“文本”格式后重新输入"


@dataclass(frozen=True)
class RowError:
    row: int | None  # spreadsheet row (header = 1); None for the file as a whole
    column: str | None
    message: str
    serial: str | None = None  # the sheet's own 序号, when it has one


@dataclass(frozen=True)
class Record:
    row: int
    serial: int | None
    id_number: str
    name: str
    sex: str
    birth_date: date
    ethnicity: str
    political_status: str
    phone: str
    email: str | None
    university: str
    degree: str
    major: str
    graduation: str
    project_type: str
    track: str
    teaching_corps: bool
    league: str
    county: str
    unit: str
    post: str
    county_level: bool
    years: int
    report_date: date


class _Invalid(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def locate_columns(rows: Sequence[SheetRow]) -> tuple[int, dict[str, int]] | RowError:
    """The header row (searched in the first 10, so a title row above it is fine) and each column's index."""
    best: tuple[int, dict[str, int]] | None = None
    for position, row in enumerate(rows[:10]):
        found: dict[str, int] = {}
        for index, cell in enumerate(row.cells):
            name = clean_header(cell)
            name = ALIASES.get(name, name)
            if name in COLUMNS and name not in found:
                found[name] = index
        if found and (best is None or len(found) > len(best[1])):
            best = (position, found)
    if best is None or ("身份证号" not in best[1] and len(best[1]) < 3):
        return RowError(1, None, "未找到表头行：第一行应为列名（序号、姓名、性别、身份证号……）")
    position, found = best
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    if missing:
        return RowError(rows[position].number, None, f"表头缺少以下列：{'、'.join(missing)}")
    return position, found


def validate_rows(
    rows: Sequence[SheetRow], columns: dict[str, int], *, start_year: int, today: date
) -> tuple[list[Record], list[RowError]]:
    """Every data row (those after the header) → a Record, or all of its errors; then duplicates across rows."""
    records: list[Record] = []
    errors: list[RowError] = []
    for row in rows:
        record, row_errors = _validate_row(row, columns, start_year=start_year, today=today)
        errors.extend(row_errors)
        if record is not None:
            records.append(record)
    seen: dict[str, Record] = {}
    duplicates: list[Record] = []
    for record in records:
        first = seen.setdefault(record.id_number, record)
        if first is not record:
            duplicates.append(record)
            errors.append(
                RowError(
                    record.row, "身份证号", f"身份证号与第{first.row}行重复", _serial_text(record.serial)
                )
            )
            errors.append(
                RowError(first.row, "身份证号", f"身份证号与第{record.row}行重复", _serial_text(first.serial))
            )
    errors.sort(key=lambda e: (e.row or 0, _column_order(e.column)))
    return records, errors


def _serial_text(serial: int | None) -> str | None:
    return None if serial is None else str(serial)


def _column_order(column: str | None) -> int:
    return COLUMNS.index(column) if column in COLUMNS else -1


def _validate_row(
    row: SheetRow, columns: dict[str, int], *, start_year: int, today: date
) -> tuple[Record | None, list[RowError]]:
    def raw(column: str) -> str:
        index = columns.get(column)
        return row.cells[index] if index is not None and index < len(row.cells) else ""

    serial_text = clean_code(raw(SERIAL)) or None
    errors: list[RowError] = []
    values: dict[str, object] = {}

    def check(column: str, parse: Callable[[str], object]) -> None:
        text = raw(column)
        if not text.strip() and column not in OPTIONAL_VALUES:
            errors.append(RowError(row.number, column, "必填项为空", serial_text))
            return
        try:
            values[column] = parse(text)
        except _Invalid as exc:
            errors.append(RowError(row.number, column, exc.message, serial_text))

    id_index = columns["身份证号"]
    check("身份证号", lambda t: _id_number(t, id_index in row.numeric, today))
    check("姓名", lambda t: _limited("姓名", clean_name(t)))
    check("性别", lambda t: _choice(clean_text(t), ("男", "女")))
    check("民族", lambda t: _limited("民族", clean_text(t)))
    check("政治面貌", lambda t: _choice(clean_text(t), POLITICAL_STATUSES))
    check("手机号码", _phone)
    check("电子邮箱", _email)
    check("毕业院校", lambda t: _limited("毕业院校", clean_text(t)))
    check("学历", lambda t: _choice(clean_text(t), DEGREES))
    check("专业", lambda t: _limited("专业", clean_text(t)))
    check("毕业时间", lambda t: _month(t, start_year))
    check("项目类型", lambda t: _choice(clean_text(t), PROJECT_TYPES))
    check("专项", lambda t: _choice(clean_text(t), TRACKS))
    check("研究生支教团", _yes_no)
    check("服务盟市", _league)
    check("服务旗县", clean_text)
    check("服务单位", lambda t: _limited("服务单位", clean_text(t)))
    check("岗位名称", lambda t: _limited("岗位名称", clean_text(t)))
    check("县级及以上机关", _yes_no)
    check("服务期限(年)", _years)
    check("报到日期", lambda t: _report_date(t, start_year))

    league, county = values.get("服务盟市"), values.get("服务旗县")
    if isinstance(league, str) and isinstance(county, str):
        problem = _county_problem(league, county)
        if problem:
            errors.append(RowError(row.number, "服务旗县", problem, serial_text))
            values.pop("服务旗县")
    identity = values.get("身份证号")
    if isinstance(identity, tuple) and values.get("性别") not in (None, identity[2]):
        errors.append(
            RowError(
                row.number,
                "性别",
                f"性别“{values['性别']}”与身份证号不符（按身份证号第17位应为{identity[2]}）",
                serial_text,
            )
        )
    if errors:
        return None, errors
    serial = int(serial_text) if serial_text and serial_text.isdigit() and len(serial_text) < 9 else None
    id_number, birth_date, sex = cast(tuple[str, date, str], identity)
    return (
        Record(
            row=row.number,
            serial=serial,
            id_number=id_number,
            name=str(values["姓名"]),
            sex=sex,
            birth_date=birth_date,
            ethnicity=str(values["民族"]),
            political_status=str(values["政治面貌"]),
            phone=str(values["手机号码"]),
            email=values.get("电子邮箱") or None,  # type: ignore[arg-type]
            university=str(values["毕业院校"]),
            degree=str(values["学历"]),
            major=str(values["专业"]),
            graduation=str(values["毕业时间"]),
            project_type=str(values["项目类型"]),
            track=str(values["专项"]),
            teaching_corps=bool(values["研究生支教团"]),
            league=str(values["服务盟市"]),
            county=str(values["服务旗县"]),
            unit=str(values["服务单位"]),
            post=str(values["岗位名称"]),
            county_level=bool(values["县级及以上机关"]),
            years=int(values["服务期限(年)"]),  # type: ignore[call-overload]
            report_date=values["报到日期"],  # type: ignore[arg-type]
        ),
        [],
    )


# --- one parser per kind of cell; each returns the clean value or raises _Invalid ------------------------


def _limited(column: str, value: str) -> str:
    limit = MAX_LENGTHS[column]
    if len(value) > limit:
        raise _Invalid(f"内容过长（{len(value)}字，最多{limit}字）")
    return value


def _choice(value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise _Invalid(f"“{value}”不是有效值，应为：{'、'.join(allowed)}")
    return value


def _yes_no(text: str) -> bool:
    value = clean_text(text)
    if value not in ("是", "否"):
        raise _Invalid(f"应填“是”或“否”，实际为“{value}”")
    return value == "是"


def _id_number(text: str, numeric_cell: bool, today: date) -> tuple[str, date, str]:
    value = clean_code(text).upper()
    if numeric_cell or _EXCEL_NUMBER.fullmatch(value):
        raise _Invalid(
            f"身份证号被Excel存成了数字（{value}），后几位已丢失、无法还原：{_EXCEL_FIX}（先设格式再输入，或在号码前加英文单引号'）"
        )
    try:
        parsed = parse_id_number(value, today=today)
    except RuleViolation as exc:
        message = exc.message
        if exc.code == "id_checksum" and value.endswith("00"):
            message += f"；若该列曾被Excel当作数字，末尾几位会变成0：{_EXCEL_FIX}"
        raise _Invalid(message) from None
    return parsed.value, parsed.birth_date, parsed.sex


def _phone(text: str) -> str:
    value = clean_code(text).replace("-", "")
    if _EXCEL_NUMBER.fullmatch(value):
        raise _Invalid(f"手机号码被Excel存成了科学计数法（{value}）：{_EXCEL_FIX}")
    if value.startswith("+86"):
        value = value[3:]
    elif len(value) == 13 and value.startswith("86"):
        value = value[2:]
    if not (len(value) == 11 and value.isascii() and value.isdigit() and value.startswith("1")):
        raise _Invalid("手机号码应为以1开头的11位数字")
    return value


def _email(text: str) -> str | None:
    value = clean_code(text)
    if not value:
        return None
    if len(value) > MAX_LENGTHS["电子邮箱"]:
        raise _Invalid("电子邮箱过长")
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise _Invalid(f"电子邮箱“{value}”格式不正确") from None


def _month(text: str, start_year: int) -> str:
    value = clean_code(text)
    match = _MONTH.fullmatch(value) or _COMPACT_MONTH.fullmatch(value)
    if not match:
        raise _Invalid(f"毕业时间“{value}”格式应为YYYY-MM（如{start_year}-06）")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12 or not 1950 <= year <= start_year + 1:
        raise _Invalid(f"毕业时间“{value}”不是有效的年月")
    return f"{year:04d}-{month:02d}"


def _report_date(text: str, start_year: int) -> date:
    value = clean_code(text)
    match = _DATE.fullmatch(value) or _COMPACT_DATE.fullmatch(value)
    if not match:
        raise _Invalid(f"报到日期“{value}”格式应为YYYY-MM-DD（如{start_year}-07-31）")
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise _Invalid(f"报到日期“{value}”不存在") from None
    if day.year not in (start_year, start_year + 1):
        raise _Invalid(f"报到日期{day.isoformat()}不在{start_year}-{start_year + 1}年度内")
    return day


def _years(text: str) -> int:
    value = clean_code(text).removesuffix("年")
    if value.endswith(".0"):
        value = value[:-2]
    if not value.isdigit() or not value.isascii():
        raise _Invalid(f"服务期限应为1至3的整数，实际为“{value}”")
    try:
        return check_service_years(int(value))
    except RuleViolation as exc:
        raise _Invalid(exc.message) from None


def _league(text: str) -> str:
    value = clean_text(text)
    if regions().league(value) is None:
        raise _Invalid(f"“{value}”不是内蒙古自治区的盟市（应为全称，如呼和浩特市、兴安盟）")
    return value


def _county_problem(league: str, county: str) -> str | None:
    found = regions().league(league)
    if found is not None and county in found.counties:
        return None
    owners = regions().league_of(county)
    if owners:
        return f"旗县“{county}”不属于{league}（属于{'、'.join(owners)}）"
    return f"“{county}”不是内蒙古自治区的旗县（市、区）（应为全称，如新巴尔虎右旗）"
