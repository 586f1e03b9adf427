"""``xibu archive check``: is every blob the database points at still there, byte for byte?

The archive is write-once and content-addressed, so a blob whose SHA-256 no longer matches its
name was changed on disk (bit rot, a restore gone wrong, tampering). The database is the list
of what must exist: template versions, each document's rendered and current PDF, every
revision, and the signing reports the audit trail names.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass

import typer
from rich.console import Console
from sqlmodel import Session, col, select

from storage.archive import Archive
from storage.models import AuditEvent, Document, DocumentRevision, TemplateVersion

archive_app = typer.Typer(help="归档文件", no_args_is_help=True)
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_DAMAGED = 1
REPORT_EVENT = "reported"  # service.audit.service.Event.REPORTED; storage does not import service


@dataclass(frozen=True)
class BlobProblem:
    """One damaged blob and every row that points at it."""

    key: str
    problem: str  # "missing" | "corrupt"
    referenced_by: tuple[str, ...]


def referenced_blobs(session: Session) -> dict[str, list[str]]:
    """Archive key → the rows that reference it (e.g. ``document 7 current``)."""
    refs: dict[str, list[str]] = defaultdict(list)
    for tv in session.exec(select(TemplateVersion)):
        refs[tv.sha256].append(f"template {tv.kind} v{tv.id}")
    for doc in session.exec(select(Document)):
        refs[doc.rendered_sha256].append(f"document {doc.id} rendered")
        refs[doc.current_sha256].append(f"document {doc.id} current")
    for rev in session.exec(select(DocumentRevision)):
        refs[rev.sha256].append(f"document {rev.document_id} revision {rev.seq} ({rev.reason})")
    reports = select(AuditEvent).where(
        AuditEvent.event == REPORT_EVENT, col(AuditEvent.hash_after).is_not(None)
    )
    for ev in session.exec(reports):
        assert ev.hash_after is not None
        refs[ev.hash_after].append(f"document {ev.document_id} report (audit {ev.seq})")
    return dict(refs)


def check_archive(session: Session, archive: Archive) -> tuple[int, list[BlobProblem]]:
    """Re-hash every referenced blob: (how many were checked, the missing and the corrupt)."""
    refs = referenced_blobs(session)
    found = archive.check(sorted(refs))
    problems = [BlobProblem(k, p, tuple(refs[k])) for k, p in sorted(found.items())]
    return len(refs), problems


_LABEL = {"missing": "缺失", "corrupt": "内容被改动（哈希不符）"}


@archive_app.command("check")
def check_command(as_json: bool = typer.Option(False, "--json", help="输出机器可读的结果")) -> None:
    """重新计算数据库引用的每个归档文件的哈希：全部完好时退出码为 0，否则列出问题并以 1 退出。"""
    from service.config import get_settings
    from storage.db import get_engine, session_scope

    with session_scope(get_engine()) as session:
        checked, problems = check_archive(session, Archive.at(get_settings().data_dir))
    if as_json:
        body = {"ok": not problems, "checked": checked, "problems": [asdict(p) for p in problems]}
        _out.print_json(json.dumps(body, ensure_ascii=False))
    else:
        for p in problems:
            _err.print(f"{p.key}：{_LABEL.get(p.problem, p.problem)}；引用：{'；'.join(p.referenced_by)}")
        summary = (
            f"已检查{checked}个归档文件，{len(problems)}个有问题。"
            if problems
            else f"已检查{checked}个归档文件，全部完好。"
        )
        (_err if problems else _out).print(summary)
    if problems:
        raise typer.Exit(EXIT_DAMAGED)
