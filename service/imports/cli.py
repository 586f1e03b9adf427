"""``xibu import FILE --cohort 2020-2021``: the same import as the upload endpoint, from a shell."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from service.config import get_settings
from service.errors import AppError
from service.imports.errors import ImportRejected
from service.imports.schemas import ImportReport

EXIT_REJECTED = 2

_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


def import_sheet(
    file: Path = typer.Argument(..., help="志愿者信息表（.csv 或 .xlsx）", exists=False, dir_okay=False),
    cohort: str = typer.Option(..., "--cohort", help="年度，如 2020-2021"),
    as_json: bool = typer.Option(False, "--json", help="输出机器可读的导入报告（JSON）"),
    check: bool = typer.Option(False, "--check", help="只检查，不写入数据库"),
) -> None:
    """导入志愿者信息表（全部成功才写入；重复导入同一表格不会产生变化）。"""
    from service.imports.service import import_sheet as run_import
    from storage.db import get_engine, session_scope

    settings = get_settings()
    try:
        size = file.stat().st_size
    except OSError:
        _err.print(f"无法读取文件：{file}")
        raise typer.Exit(EXIT_REJECTED) from None
    if size > settings.max_upload_bytes:
        _err.print(f"文件过大（{size / 1048576:.1f}MB），上限为{settings.max_upload_bytes // 1048576}MB")
        raise typer.Exit(EXIT_REJECTED)
    data = file.read_bytes()
    try:
        with session_scope(get_engine()) as session:
            report = run_import(session, data, file.name, cohort, dry_run=check)
    except ImportRejected as exc:
        _show(exc.report, as_json)
        raise typer.Exit(EXIT_REJECTED) from None
    except AppError as exc:
        _err.print(exc.message)
        raise typer.Exit(EXIT_REJECTED) from None
    _show(report, as_json)


def _show(report: ImportReport, as_json: bool) -> None:
    if as_json:
        _out.out(report.model_dump_json(indent=2))
        return
    console = _err if report.status == "rejected" else _out
    console.print(report.summary())
    for error in report.errors:
        console.print("  " + error.text())
    if report.errors_truncated:
        console.print(f"  ……另有{report.error_count - len(report.errors)}处错误未列出")
    for warning in report.warnings:
        console.print("  提醒：" + warning.message)
