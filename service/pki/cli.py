"""``xibu pki …``: revoke a party's certificate, register an organization's own PKCS#12."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

pki_app = typer.Typer(help="证书管理", no_args_is_help=True)
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


@pki_app.command("revoke")
def revoke_command(
    reason: str = typer.Option(..., "--reason", help="吊销原因（记入证书记录）"),
    serial: str | None = typer.Option(None, "--serial", help="证书序列号（十六进制）"),
    org_id: int | None = typer.Option(None, "--org-id", help="吊销该单位当前的全部证书"),
    volunteer_id: int | None = typer.Option(None, "--volunteer-id", help="吊销该志愿者当前的全部证书"),
    key_compromise: bool = typer.Option(
        False, "--key-compromise", help="私钥泄露（CRL 原因码 keyCompromise）"
    ),
) -> None:
    """吊销证书并重新发布 CRL；该方下次签署时自动获得新证书。"""
    from cryptography import x509

    from service.errors import AppError
    from service.pki import service as pki
    from storage.db import get_engine, session_scope

    if sum(v is not None for v in (serial, org_id, volunteer_id)) != 1:
        _err.print("请指定且只指定 --serial、--org-id、--volunteer-id 中的一个")
        raise typer.Exit(2)
    if not reason.strip():
        _err.print("必须说明吊销原因")
        raise typer.Exit(2)
    flag = x509.ReasonFlags.key_compromise if key_compromise else x509.ReasonFlags.unspecified
    try:
        with session_scope(get_engine()) as session:
            if serial is not None:
                serials = [serial.lower()]
            else:
                found = pki.active_certificates(session, organization_id=org_id, volunteer_id=volunteer_id)
                serials = [c.serial for c in found]
            if not serials:
                _err.print("该方没有有效证书，无需吊销")
                raise typer.Exit(1)
            for s in serials:
                rec = pki.revoke(session, s, reason.strip(), flag)
                _out.print(f"已吊销证书 {rec.serial}（{rec.subject}）")
    except AppError as exc:
        _err.print(exc.message)
        raise typer.Exit(1) from None


@pki_app.command("import-p12")
def import_p12_command(
    file: Path = typer.Argument(..., help="PKCS#12 文件（.p12 / .pfx）", dir_okay=False),
    org_id: int = typer.Option(..., "--org-id", help="证书所属单位编号"),
    password: str | None = typer.Option(None, "--password", envvar="XIBU_P12_PASSWORD", help="文件密码"),
) -> None:
    """登记单位自有证书（外部 CA 签发）；此后该单位用它签署。导入即表示信任其 CA。"""
    from service.errors import AppError
    from service.pki import service as pki
    from signing import SigningError
    from storage.db import get_engine, session_scope
    from storage.models import Organization

    try:
        data = file.read_bytes()
    except OSError as exc:
        _err.print(f"无法读取文件：{exc.strerror}")
        raise typer.Exit(1) from None
    try:
        with session_scope(get_engine()) as session:
            org = session.get(Organization, org_id)
            if org is None:
                _err.print(f"单位{org_id}不存在")
                raise typer.Exit(1)
            rec = pki.import_p12(session, org, data, password)
            _out.print(f"已为{org.name}登记证书 {rec.serial}（{rec.subject}）")
    except SigningError as exc:  # PkiError, KeyStoreError: wrong password, no key, not for signing
        _err.print(exc.reason)
        raise typer.Exit(1) from None
    except AppError as exc:
        _err.print(exc.message)
        raise typer.Exit(1) from None
