"""create_* helpers for API tests: invented people with valid ID numbers, and bearer headers."""

from __future__ import annotations

import itertools
from datetime import date
from functools import lru_cache

from sqlmodel import Session

from service.cohorts import rules
from service.config import get_settings
from service.organizations import service as orgs
from service.users.security import create_access_token, hash_password
from storage.models import Cohort, Organization, OrgKind, Post, Role, ServiceTerm, User, Volunteer

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery"


def make_id_number(n: int, birth: str = "19980301") -> str:
    first17 = f"150102{birth}{n % 1000:03d}"
    return first17 + rules.id_check_character(first17)


def create_unit(session: Session, league: str, county: str, name: str) -> Organization:
    parent = orgs.county_office(session, league, county)
    unit, _ = orgs.get_or_create(
        session, OrgKind.SERVICE_UNIT, name, league=league, county=county, parent=parent
    )
    return unit


def create_volunteer(
    session: Session,
    cohort: Cohort,
    unit: Organization,
    *,
    name: str | None = None,
    agreed_years: int = 1,
    report_date: date = date(2020, 7, 25),
    track: str = "基础教育",
    project_type: str = "全国项目",
) -> tuple[Volunteer, ServiceTerm]:
    n = next(_seq)
    id_number = make_id_number(n)
    volunteer = Volunteer(
        id_number=id_number,
        name=name or f"测试{n}",
        sex=rules.parse_id_number(id_number).sex,
        birth_date=date(1998, 3, 1),
        ethnicity="汉族",
        political_status="共青团员",
        phone=f"139{n:08d}",
        university="内蒙古大学",
        degree="本科",
        major="汉语言文学",
        graduation="2020-06",
    )
    session.add(volunteer)
    post = Post(
        unit_id=unit.id or 0,
        league=unit.league or "",
        county=unit.county or "",
        track=track,
        title=f"岗位{n}",
    )
    session.add(post)
    session.flush()
    term = ServiceTerm(
        volunteer_id=volunteer.id or 0,
        cohort_id=cohort.id or 0,
        post_id=post.id or 0,
        project_type=project_type,
        report_date=report_date,
        agreed_years=agreed_years,
    )
    session.add(term)
    session.flush()
    return volunteer, term


def create_login(
    session: Session,
    role: Role,
    *,
    organization: Organization | None = None,
    volunteer: Volunteer | None = None,
) -> User:
    # Argon2 is slow on purpose; hash the shared test password once per run.
    user = User(
        username=f"user{next(_seq)}",
        display_name="测试账号",
        password_hash=_password_hash(),
        role=role.value,
        organization_id=organization.id if organization else None,
        volunteer_id=volunteer.id if volunteer else None,
    )
    session.add(user)
    session.flush()
    return user


@lru_cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def auth(user: User) -> dict[str, str]:
    settings = get_settings()
    token = create_access_token(user.id or 0, settings.secret_key, settings.access_token_minutes)
    return {"Authorization": f"Bearer {token}"}
