"""The ``xibu`` command. Each domain adds its own commands; this file only wires them."""

from __future__ import annotations

import secrets

import typer
from rich.console import Console

from service.config import get_settings

app = typer.Typer(help="西部计划文书签署平台 Xibu Docs", no_args_is_help=True, add_completion=False)
console = Console(stderr=True)


@app.command()
def init(
    admin_username: str = typer.Option("admin", help="自治区项目办管理员用户名"),
    admin_password: str | None = typer.Option(
        None, envvar="XIBU_ADMIN_PASSWORD", help="管理员密码（缺省时随机生成并打印一次）"
    ),
) -> None:
    """Create or upgrade the database schema and the region office with its first admin. Idempotent."""
    from service.organizations.service import region_office
    from service.pki.service import ensure_pki, stamp_fonts
    from service.users.service import create_user, get_by_username
    from storage import migrate
    from storage.db import get_engine, session_scope
    from storage.models import Role

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)
    ensure_pki(settings)
    stamp_fonts()  # builds the stamp font cache once, so no signature waits for it
    with session_scope(get_engine()) as session:
        office = region_office(session)
        if get_by_username(session, admin_username) is None:
            password = admin_password or secrets.token_urlsafe(12)
            create_user(
                session,
                username=admin_username,
                password=password,
                role=Role.REGION_ADMIN,
                display_name="自治区项目办管理员",
                organization_id=office.id,
            )
            if admin_password is None:
                console.print(f"已创建管理员 {admin_username}，初始密码：{password}（请登录后修改）")
    console.print("数据库已就绪。")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    workers: int = typer.Option(1, help="Web 进程数（PostgreSQL 下可多进程）"),
    embedded_worker: bool = typer.Option(
        True, help="同时启动一个后台任务进程（批量签发）；另有 worker 时可关闭"
    ),
) -> None:
    """Run the web service (and, by default, one job worker beside it)."""
    import subprocess
    import sys

    import uvicorn

    worker_proc = None
    if embedded_worker:
        # A separate process, not a thread: the worker owns LibreOffice instances and signals.
        worker_proc = subprocess.Popen([sys.executable, "-m", "service", "worker"])
    try:
        uvicorn.run("service.main:app", host=host, port=port, workers=workers, log_level="info")
    finally:
        if worker_proc is not None:
            worker_proc.terminate()
            try:
                worker_proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker_proc.kill()


@app.command()
def worker(
    workers: int = typer.Option(1, help="本进程内的并发任务数"),
) -> None:
    """Run queued jobs (batch issuance) until stopped. Several may run, on one machine or several."""
    from huey.consumer import Consumer

    import service.audit.tasks
    import service.documents.tasks  # noqa: F401  (both register their tasks)
    from service.documents.converter import close_shared_converter
    from service.jobs import queue

    try:
        # Poll at least once a second: an office watching a progress bar should not wait for a backoff.
        Consumer(queue(), workers=workers, worker_type="thread", max_delay=1.0).run()
    finally:
        close_shared_converter()  # stop this worker's LibreOffice instances with it


def _register_domains() -> None:
    from service.agreements.cli import agreements_app
    from service.audit.cli import audit_app
    from service.demo.cli import demo
    from service.documents.cli import issue_app
    from service.imports.cli import import_sheet
    from service.pki.cli import pki_app
    from service.users.cli import users_app
    from service.verification.cli import verify
    from storage.cli import archive_app

    app.command("import")(import_sheet)
    app.command("demo")(demo)
    app.add_typer(issue_app, name="issue")
    app.add_typer(users_app, name="users")
    app.add_typer(agreements_app, name="agreements")
    app.add_typer(pki_app, name="pki")
    app.add_typer(audit_app, name="audit")
    app.add_typer(archive_app, name="archive")
    app.command("verify")(verify)


_register_domains()
