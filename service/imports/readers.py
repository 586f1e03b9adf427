"""Intake sheets (CSV or XLSX bytes) → rows of text with their spreadsheet row numbers.

Knows nothing of the programme's columns: it only turns hostile bytes into bounded text, and says in
Chinese why it cannot. Row numbers are the ones the office sees in Excel (first row = 1), so an error
message can send them to the right cell.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

__all__ = [
    "MAX_COLUMNS",
    "MAX_DATA_ROWS",
    "MAX_UNCOMPRESSED_BYTES",
    "SheetRow",
    "UnreadableSheet",
    "read_sheet",
]

# A year's intake is ~1,300 rows; these bounds only stop files that would eat the server.
MAX_DATA_ROWS = 20_000
MAX_COLUMNS = 200
MAX_SHEET_ROW = 100_000  # openpyxl yields the blank rows between two far-apart rows one by one
MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024
MAX_ZIP_MEMBERS = 500
MAX_CSV_FIELD = 64 * 1024

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls / .et
_TEXT_FIX = "请在Excel中另存为“CSV UTF-8（逗号分隔）”或“Excel 工作簿（.xlsx）”后重新上传"


class UnreadableSheet(ValueError):
    """The file as a whole cannot be read. ``message`` is Chinese; ``status`` the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int = 400, code: str = "unreadable_file") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


@dataclass(frozen=True)
class SheetRow:
    number: int  # spreadsheet row; the first row of the file is 1
    cells: tuple[str, ...]
    # Column indexes whose XLSX cell held a number, not text: an ID number stored that way lost digits.
    numeric: frozenset[int] = field(default_factory=frozenset)


def read_sheet(data: bytes, filename: str) -> list[SheetRow]:
    """The non-blank rows of the first worksheet (XLSX) or of the CSV text, chosen by content, not name."""
    if not data:
        raise UnreadableSheet("文件为空")
    lower = filename.lower()
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(data)
    if data.startswith(_OLE2_MAGIC):
        raise UnreadableSheet(f"这是旧版Excel（.xls）或WPS格式文件，无法读取：{_TEXT_FIX}")
    if lower.endswith((".xlsx", ".xlsm")):
        raise UnreadableSheet(f"文件扩展名为.xlsx，但内容不是有效的Excel工作簿：{_TEXT_FIX}")
    return _read_csv(data)


# --- CSV -----------------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's 'Unicode text'), else GB18030 (WPS/old Excel)."""
    if data.startswith(b"\xef\xbb\xbf"):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        if b"\x00" in data[:65536]:
            raise UnreadableSheet(f"文件不是文本格式的CSV表格（含有二进制内容）：{_TEXT_FIX}")
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise UnreadableSheet(f"无法识别文件的文字编码（支持UTF-8和GB18030），或文件不是CSV表格：{_TEXT_FIX}")


def _delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    return max((",", "\t", ";"), key=first_line.count)


def _read_csv(data: bytes) -> list[SheetRow]:
    text = _decode(data)
    rows: list[SheetRow] = []
    # One CSV record is one spreadsheet row, even when a quoted cell spans lines, as in Excel.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=False)
    old_limit = csv.field_size_limit(MAX_CSV_FIELD)
    try:
        number = 0
        for cells in reader:
            number += 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > MAX_COLUMNS:
                cells = cells[:MAX_COLUMNS]
            rows.append(SheetRow(number, tuple(cells)))
            if len(rows) > MAX_DATA_ROWS + 1:
                raise UnreadableSheet(f"表格超过{MAX_DATA_ROWS}行，请拆分后分批导入", status=413)
    except csv.Error:
        raise UnreadableSheet(f"第{number + 1}行附近的CSV格式有误（单元格过长或引号不配对）") from None
    finally:
        csv.field_size_limit(old_limit)
    return rows


# --- XLSX ----------------------------------------------------------------------------------------------


def _check_zip(data: bytes) -> None:
    """Refuse zip bombs before openpyxl inflates anything: the declared sizes bound what zipfile will read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise UnreadableSheet(f"Excel文件已损坏或不是.xlsx格式：{_TEXT_FIX}") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise UnreadableSheet("Excel文件结构异常（内部文件过多），拒绝读取", status=413)
    total = sum(m.file_size for m in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise UnreadableSheet(
            f"Excel文件解压后超过{MAX_UNCOMPRESSED_BYTES // (1024 * 1024)}MB，拒绝读取（可能是压缩炸弹），请只保留志愿者信息表",
            status=413,
        )


def _cell_text(value: object) -> tuple[str, bool]:
    """A cell as the text Excel would show, and whether it was a number."""
    if value is None:
        return "", False
    if isinstance(value, str):
        return value, False
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), False
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value)), True
        return f"{value:.15G}", True  # how Excel shows 1.50602199706117E+17
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat(), False
        return value.isoformat(sep=" "), False
    if isinstance(value, date | time):
        return value.isoformat(), False
    return str(value), False


def _read_xlsx(data: bytes) -> list[SheetRow]:
    _check_zip(data)
    import openpyxl

    rows: list[SheetRow] = []
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on malformed parts; all mean the same to the office
        raise UnreadableSheet(f"无法打开Excel文件，文件可能已损坏：{_TEXT_FIX}") from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None or not hasattr(sheet, "reset_dimensions"):
            raise UnreadableSheet("Excel文件中没有工作表")
        # A forged <dimension ref="A1:XFD1048576"/> would make openpyxl pad a million empty rows.
        sheet.reset_dimensions()
        for number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), 1):
            if number > MAX_SHEET_ROW:
                raise UnreadableSheet(f"表格超过{MAX_SHEET_ROW}行，请只保留志愿者信息后重新导入", status=413)
            texts: list[str] = []
            numeric: set[int] = set()
            for index, value in enumerate(values):
                text, is_number = _cell_text(value)
                texts.append(text)
                if is_number:
                    numeric.add(index)
            if not any(t.strip() for t in texts):
                continue
            rows.append(SheetRow(number, tuple(texts), frozenset(numeric)))
            if len(rows) > MAX_DATA_ROWS + 1:
                raise UnreadableSheet(f"表格超过{MAX_DATA_ROWS}行，请拆分后分批导入", status=413)
    except UnreadableSheet:
        raise
    except Exception:
        raise UnreadableSheet(f"读取Excel文件时出错，文件可能已损坏：{_TEXT_FIX}") from None
    finally:
        workbook.close()
    return rows
