"""``xibu demo``: a ready-to-try installation on the embedded defaults. Idempotent."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

DEMO_SHEET = Path(__file__).parent / "data" / "demo-cohort-2020.csv"
DEMO_COHORT = "2020-2021"
# Demo accounts only ever exist on a development installation (``demo`` refuses production).
DEMO_PASSWORD = "xibu-demo-2020"

console = Console(stderr=True, highlight=False, soft_wrap=True)


def demo() -> None:
    """初始化数据库并载入演示年度（36名虚构志愿者）和演示账号。"""
    from sqlmodel import col, select

    from service.cli import init
    from service.config import get_settings
    from service.imports.service import import_sheet
    from service.organizations.service import county_office
    from service.users.service import create_user, get_by_username
    from storage.db import get_engine, session_scope
    from storage.models import Organization, OrgKind, Role

    settings = get_settings()
    if settings.environment == "production":
        console.print("生产环境不能载入演示数据。")
        raise typer.Exit(2)
    init(admin_username="admin", admin_password=DEMO_PASSWORD)
    with session_scope(get_engine()) as session:
        report = import_sheet(session, DEMO_SHEET.read_bytes(), DEMO_SHEET.name, DEMO_COHORT)
        console.print(f"演示年度 {DEMO_COHORT}：{report.summary()}")
        first = session.exec(
            select(Organization)
            .where(Organization.kind == OrgKind.SERVICE_UNIT.value)
            .order_by(col(Organization.id))
        ).first()
        accounts = [("admin", "自治区项目办管理员")]
        if first is not None and first.league and first.county:
            office = county_office(session, first.league, first.county)
            for username, role, org, label in (
                ("county", Role.COUNTY_OFFICE, office, office.name),
                ("unit", Role.SERVICE_UNIT, first, first.name),
            ):
                if get_by_username(session, username) is None:
                    create_user(
                        session, username=username, password=DEMO_PASSWORD, role=role,
                        display_name=label, organization_id=org.id,
                    )  # fmt: skip
                accounts.append((username, label))
    console.print("演示账号（密码均为 " + DEMO_PASSWORD + "）：")
    for username, label in accounts:
        console.print(f"  {username:8s} {label}")
