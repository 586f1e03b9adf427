"""``xibu verify FILE.pdf [--json]``: the upload validation, offline, against this installation's
registry, archive and PKI. Exit 0 only when every check passes, 1 when a check fails, 2 when the
file cannot be verified at all."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from service.config import get_settings

#: Exit status per verdict: 有效 → 0, 无效 → 1, 无法验证 → 2.
EXIT = {"有效": 0, "无效": 1, "无法验证": 2}


def verify(
    file: Path = typer.Argument(..., help="要验证的PDF文件", exists=False),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出验证报告"),
) -> None:
    """验证一份PDF文书：签名、证书、时间戳、修改、签署方、登记与存档，逐项给出结论。"""
    # Imported here: pyHanko and the signing stack take seconds to import, and every other
    # ``xibu`` command would pay for them.
    from service.verification.upload import verify_upload
    from service.verification.upload_schemas import UploadReportRead
    from signing.verify import Verdict
    from storage.archive import Archive
    from storage.db import get_engine, session_scope

    out = Console(highlight=False, soft_wrap=True)
    try:
        data = file.read_bytes()
    except OSError as exc:
        Console(stderr=True).print(f"无法读取文件 {file}：{exc.strerror or exc}")
        raise typer.Exit(2) from None
    settings = get_settings()
    with session_scope(get_engine()) as session:
        report = verify_upload(session, Archive.at(settings.data_dir), data)
    if as_json:
        print(json.dumps(UploadReportRead.of(report).model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        if report.document is not None:
            out.print(f"文书：{report.document.title}（编号{report.document.number}）")
        out.print(f"文件SHA-256：{report.sha256}")
        for c in report.checks:
            mark = "[green]✓[/green]" if c.passed else "[red]✗[/red]"
            out.print(f"{mark} {c.title}：{c.reason}")
        colour = "green" if report.verdict is Verdict.VALID else "red"
        out.print(f"结论：[bold {colour}]{report.verdict.value}[/bold {colour}]")
    raise typer.Exit(EXIT[report.verdict.value])
