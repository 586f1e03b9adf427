"""``xibu agreements …``: create a cohort's agreements and print their links; resend, void."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import typer
from rich.console import Console

agreements_app = typer.Typer(help="三方服务协议在线签署", no_args_is_help=True)
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


@agreements_app.command("create")
def create(
    cohort: str = typer.Option(..., "--cohort", help="年度，如 2020-2021"),
    id_number: str | None = typer.Option(None, "--id-number", help="只为该身份证号的志愿者创建"),
    league: str | None = typer.Option(None, "--league", help="只为该盟市"),
    county: str | None = typer.Option(None, "--county", help="只为该旗县"),
    year: int = typer.Option(1, "--year", min=1, max=3, help="第几服务年（一年一签）"),
    expires: str | None = typer.Option(None, "--expires", help="链接有效期 YYYY-MM-DD（缺省为签署截止日）"),
    recipient: list[str] = typer.Option([], "--recipient", help="签署方=邮箱，可重复，如 unit=hr@example.cn"),
    as_json: bool = typer.Option(False, "--json", help="输出机器可读的结果"),
) -> None:
    """为年度内（或筛选出的）志愿者创建三方服务协议并生成各方签署链接。可重复运行：已有协议的跳过。"""
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
                session, Archive.at(get_settings().data_dir), shared_converter(), terms, year=year,
                expires_on=expires_on, recipients=_recipients(recipient), actor=_actor(),
            )  # fmt: skip
            rows = [
                {
                    "id": c.document.id,
                    "number": c.document.number,
                    "term_id": c.document.term_id,
                    "links": [
                        {
                            "party": x.party,
                            "url": x.url,
                            "token": x.token,
                            "expires_at": x.expires_at.isoformat(),
                            "recipient": x.recipient,
                        }
                        for x in c.links
                    ],
                }
                for c in created
            ]
    finally:
        close_shared_converter()
    if as_json:
        _out.out(json.dumps({"created": rows, "skipped": [{"term_id": t, "number": n} for t, n in skipped]},
                              ensure_ascii=False))  # fmt: skip
        return
    for row in rows:
        _out.print(f"协议 {row['id']}  {row['number']}")
        for link in row["links"]:  # type: ignore[union-attr]
            _out.print(f"  {link['party']:<14} {link['url']}")  # type: ignore[index]
    _err.print(f"已创建{len(rows)}份，跳过{len(skipped)}份（已有协议）。签署链接只显示这一次，请妥善转交。")


@agreements_app.command("void")
def void(
    document_id: int = typer.Argument(..., help="协议编号（id）"),
    reason: str = typer.Option(..., "--reason", help="作废原因"),
) -> None:
    """作废一份尚未签署完毕的协议：所有签署链接立即失效。"""
    from service.agreements import service
    from storage.db import session_scope

    with _refusals(), session_scope() as session:
        doc = service.void(session, document_id, reason, _actor())
        _out.print(f"协议 {doc.id}（{doc.number}）已作废。")


@agreements_app.command("resend")
def resend(
    document_id: int = typer.Argument(..., help="协议编号（id）"),
    party: str = typer.Option(..., "--party", help="county_office | unit | volunteer"),
    recipient: str | None = typer.Option(None, "--recipient", help="新的接收邮箱"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """为一方重新生成签署链接（旧链接立即失效）并发送。"""
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
    document_id: int = typer.Argument(..., help="协议编号（id）"),
    reason: str = typer.Option(..., "--reason", help="重新签发原因"),
) -> None:
    """作废并重新签发一份协议（新编号替代旧协议），打印新的签署链接。"""
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
            _out.print(f"协议 {created.document.id}  {created.document.number}")
            for link in created.links:
                _out.print(f"  {link.party:<14} {link.url}")
    finally:
        close_shared_converter()
