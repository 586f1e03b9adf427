"""``xibu audit verify``: recompute every hash chain; the exit code is what a cron job checks."""

from __future__ import annotations

import json

import typer
from rich.console import Console

audit_app = typer.Typer(help="审计记录", no_args_is_help=True)
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_BROKEN = 1


@audit_app.command("verify")
def verify_command(
    document: int | None = typer.Option(None, "--document", help="只检查该文书的审计记录"),
    as_json: bool = typer.Option(False, "--json", help="输出机器可读的结果"),
) -> None:
    """校验审计记录的哈希链：全部完好时退出码为 0，否则列出每个问题并以 1 退出。"""
    from service.audit import service as audit
    from storage.db import get_engine, session_scope

    with session_scope(get_engine()) as session:
        if document is not None:
            found = {document: audit.verify_chain(session, document)}
            checked = 1
        else:
            found = audit.verify_all(session)
            checked = audit.documents_with_events(session)
    problems = {doc_id: items for doc_id, items in found.items() if items}
    if as_json:
        body = {"ok": not problems, "documents_checked": checked, "problems": problems}
        _out.print_json(json.dumps(body, ensure_ascii=False))
    elif problems:
        for items in problems.values():
            for item in items:
                _err.print(item)
        _err.print(f"共{len(problems)}份文书的审计记录有问题。")
    else:
        _out.print(f"已检查{checked}份文书的审计记录，哈希链完好。")
    if problems:
        raise typer.Exit(EXIT_BROKEN)
