"""``xibu users create``: accounts from the command line, through the same checks as the API."""

from __future__ import annotations

import typer
from rich.console import Console

from storage.models import Role

users_app = typer.Typer(help="账号管理", no_args_is_help=True)
console = Console(stderr=True)


@users_app.command("create")
def create_user_command(
    username: str = typer.Argument(..., help="用户名"),
    role: Role = typer.Option(..., "--role", help="角色"),
    org_id: int | None = typer.Option(None, "--org-id", help="所属项目办或服务单位编号"),
    volunteer_id: int | None = typer.Option(None, "--volunteer-id", help="志愿者编号（志愿者账号）"),
    display_name: str | None = typer.Option(None, "--display-name", help="显示名称"),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, envvar="XIBU_NEW_USER_PASSWORD"
    ),
) -> None:
    """Create an account bound to an office, a unit or a volunteer."""
    from service.errors import AppError
    from service.users.service import create_account
    from storage.db import get_engine, session_scope

    try:
        with session_scope(get_engine()) as session:
            user = create_account(
                session,
                username=username,
                password=password,
                role=role,
                display_name=display_name,
                organization_id=org_id,
                volunteer_id=volunteer_id,
            )
            user_id = user.id
    except AppError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    console.print(f"已创建账号 {username}（编号{user_id}，角色{role.value}）")
