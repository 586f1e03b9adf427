"""``xibu agreements …``: send a cohort's agreements, appraisal or evaluation forms out for signing
and print the first links; resend, void, re-issue (any kind, by document id)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from service.agreements.service import Created

agreements_app = typer.Typer(help="在线签署：三方服务协议、年度考核表、服务鉴定表", no_args_is_help=True)
_out = Console(highlight=False, soft_wrap=True, markup=False)
_err = Console(stderr=True, highlight=False, soft_wrap=True)
_CLI = "命令行"


def _actor():  # type: ignore[no-untyped-def]
    import getpass

    from service.audit.service import Actor

    return Actor(f"{_CLI}（{getpass.getuser()}）")


@contextmanager
def _refusals() -> Iterator[None]:
    """Print a refusal's Chinese message and exit 2 instead of a traceback."""
    from service.errors import AppError

    try:
        yield
    except AppError as exc:
        _err.print(exc.message)
        raise typer.Exit(2) from None


def _recipients(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        party, sep, address = item.partition("=")
        if not sep or not address.strip():
            raise typer.BadParameter(f"应为 签署方=邮箱，如 unit=hr@example.cn：{item}")
        out[party.strip()] = address.strip()
    return out


KINDS_HELP = "agreement 三方服务协议 | appraisal 年度考核表 | evaluation 服务鉴定表"


@agreements_app.command("create")
def create(
    cohort: str = typer.Option(..., "--cohort", help="年度，如 2020-2021"),
    kind: str = typer.Option("agreement", "--kind", help=KINDS_HELP),
    id_number: str | None = typer.Option(None, "--id-number", help="只为该身份证号的志愿者创建"),
    league: str | None = typer.Option(None, "--league", help="只为该盟市"),
    county: str | None = typer.Option(None, "--county", help="只为该旗县"),
    year: int = typer.Option(1, "--year", min=1, max=3, help="第几服务年（协议、考核表；鉴定表不用）"),
    expires: str | None = typer.Option(
        None, "--expires", help="链接有效期 YYYY-MM-DD（缺省为签署截止日或30天）"
    ),
    recipient: list[str] = typer.Option(
        [], "--recipient", help="签署方=邮箱或手机号，可重复，如 unit=hr@example.cn"
    ),
    as_json: bool = typer.Option(False, "--json", help="输出机器可读的结果"),
) -> None:
    """为年度内（或筛选出的）志愿者签发需在线签署的文书，并向第一签署方发送签署链接。

    后续签署方在轮到时自动收到链接。可重复运行：已有文书的跳过，尚不能签发的（考核等次未记录、服务未期满）说明原因后跳过。
    """
    from service.agreements import repository, service
    from service.config import get_settings
    from service.documents.converter import close_shared_converter, shared_converter
    from service.users.scope import Scope
    from storage.archive import Archive
    from storage.db import session_scope
    from storage.models import Role

    expires_on = date.fromisoformat(expires) if expires else None
    try:
        with _refusals(), session_scope() as session:
            terms = repository.terms_for(
                session, Scope(Role.REGION_ADMIN), cohort, id_number=id_number, league=league, county=county
            )
            if not terms:
                _err.print("没有符合条件的服务记录。")
                raise typer.Exit(1)
            created, skipped = service.create_many(
                session, Archive.at(get_settings().data_dir), shared_converter(), terms, kind=kind, year=year,
                expires_on=expires_on, recipients=_recipients(recipient), actor=_actor(),
                refuse_not_ready=bool(id_number),
            )  # fmt: skip
            rows = [_created_row(c) for c in created]
    finally:
        close_shared_converter()
    skipped_rows = [
        {"term_id": s.term_id, "number": s.number, "reason": s.reason, "code": s.code} for s in skipped
    ]
    if as_json:
        _out.out(json.dumps({"created": rows, "skipped": skipped_rows}, ensure_ascii=False))
        return
    for row in rows:
        _out.print(f"{row['title']} {row['id']}  {row['number']}")
        for link in row["links"]:
            _out.print(f"  {link['party']:<14} {link['url'] or '（轮到该方时自动发送）'}")
        for warning in row["warnings"]:
            _err.print(f"注意：{warning['message']}")
    for s in skipped_rows:
        _err.print(
            f"跳过服务记录 {s['term_id']}：{s['reason']}" + (f"（{s['number']}）" if s["number"] else "")
        )
    _err.print(f"已创建{len(rows)}份，跳过{len(skipped)}份。签署链接只显示这一次，请妥善转交。")


def _created_row(c: Created) -> dict[str, Any]:
    """One created document as the CLI prints it: later parties' links are null until their turn."""
    from doc_templates.kinds import get_kind

    return {
        "id": c.document.id,
        "kind": c.document.kind,
        "title": get_kind(c.document.kind).title,
        "number": c.document.number,
        "term_id": c.document.term_id,
        "service_year": c.document.service_year,
        "links": [
            {
                "party": x.party,
                "status": x.status,
                "url": x.url,
                "token": x.token,
                "expires_at": x.expires_at.isoformat() if x.expires_at else None,
                "recipient": x.recipient,
            }
            for x in c.links
        ],
        "warnings": [
            {"party": w.party, "organization": w.organization, "message": w.message} for w in c.warnings
        ],
    }


@agreements_app.command("void")
def void(
    document_id: int = typer.Argument(..., help="文书编号（id）"),
    reason: str = typer.Option(..., "--reason", help="作废原因"),
) -> None:
    """作废一份尚未签署完毕的文书：所有签署链接立即失效。"""
    from service.agreements import service
    from storage.db import session_scope

    with _refusals(), session_scope() as session:
        doc = service.void(session, document_id, reason, _actor())
        _out.print(f"文书 {doc.id}（{doc.number}）已作废。")


@agreements_app.command("resend")
def resend(
    document_id: int = typer.Argument(..., help="文书编号（id）"),
    party: str = typer.Option(..., "--party", help="county_office | unit | volunteer | region_office"),
    recipient: str | None = typer.Option(None, "--recipient", help="新的接收邮箱或手机号"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """为当前轮到的签署方重新生成签署链接（旧链接立即失效）并发送。"""
    from service.agreements import service
    from storage.db import session_scope

    with _refusals(), session_scope() as session:
        link = service.resend(session, document_id, party, _actor(), recipient=recipient)
    if as_json:
        _out.out(json.dumps({"party": link.party, "url": link.url, "token": link.token}, ensure_ascii=False))
    else:
        _out.print(f"{link.party}  {link.url}")


@agreements_app.command("reissue")
def reissue(
    document_id: int = typer.Argument(..., help="文书编号（id）"),
    reason: str = typer.Option(..., "--reason", help="重新签发原因"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """作废并重新签发一份文书（新编号替代旧文书），打印第一签署方的新签署链接。"""
    from service.agreements import service
    from service.config import get_settings
    from service.documents.converter import close_shared_converter, shared_converter
    from storage.archive import Archive
    from storage.db import session_scope

    try:
        with _refusals(), session_scope() as session:
            created = service.reissue(
                session,
                Archive.at(get_settings().data_dir),
                shared_converter(),
                document_id,
                reason,
                _actor(),
            )
            row = _created_row(created)
    finally:
        close_shared_converter()
    if as_json:
        _out.out(json.dumps(row, ensure_ascii=False))
        return
    _out.print(f"{row['title']} {row['id']}  {row['number']}")
    for link in row["links"]:
        _out.print(f"  {link['party']:<14} {link['url'] or '（轮到该方时自动发送）'}")
