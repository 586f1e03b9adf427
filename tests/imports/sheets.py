"""Intake sheets for tests, made in memory from the shared sample (invented people) or from scratch."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from datetime import datetime

import openpyxl
from sqlalchemy import func
from sqlmodel import Session, select

from storage.models import ImportRun, Organization, Post, ServiceTerm, Volunteer
from tests.conftest import SHEET_CSV

Rows = list[list[str]]


def shared_rows() -> tuple[list[str], Rows]:
    """Header and data rows of the shared CSV, as text."""
    with SHEET_CSV.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def column(header: Sequence[str], name: str) -> int:
    return list(header).index(name)


def to_csv(header: Sequence[str], rows: Rows, encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def to_xlsx(header: Sequence[str], rows: Rows, cell: Callable[[str, str], object] | None = None) -> bytes:
    """An XLSX of the rows; ``cell(column, text)`` may turn a text into a number or a date, as Excel would."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append([cell(h, v) if cell else v for h, v in zip(header, row, strict=True)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def excel_like(column_name: str, text: str) -> object:
    """What Excel stores when nobody formats the columns: numbers as numbers, dates as dates."""
    if column_name in ("序号", "服务期限(年)", "手机号码"):
        return int(text)
    if column_name == "报到日期":
        return datetime.strptime(text, "%Y-%m-%d")
    return text


def counts(session: Session) -> dict[str, int]:
    """Rows in every table an import writes to."""
    session.expire_all()
    return {
        model.__name__: session.exec(select(func.count()).select_from(model)).one()
        for model in (Volunteer, ServiceTerm, Post, Organization, ImportRun)
    }
