"""Accounts: create, authenticate. Flushes only; the caller's transaction commits."""

from __future__ import annotations

from sqlmodel import Session, func, select

from service.errors import AppError, Conflict, NotFound
from service.users.security import hash_password, verify_password
from storage.models import Organization, OrgKind, Role, User, Volunteer


def get_by_username(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str | None = None,
    organization_id: int | None = None,
    volunteer_id: int | None = None,
) -> User:
    if get_by_username(session, username) is not None:
        raise Conflict(f"用户名“{username}”已存在")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role.value,
        organization_id=organization_id,
        volunteer_id=volunteer_id,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if the password matches; unknown users cost the same time as wrong passwords."""
    user = get_by_username(session, username)
    ok = verify_password(password, user.password_hash if user else None)
    return user if ok and user is not None and user.active else None


# The organization kind each role is bound to; volunteers are bound to a Volunteer instead.
_ROLE_ORG_KIND = {
    Role.REGION_ADMIN: OrgKind.REGION_OFFICE,
    Role.LEAGUE_OFFICE: OrgKind.LEAGUE_OFFICE,
    Role.COUNTY_OFFICE: OrgKind.COUNTY_OFFICE,
    Role.SERVICE_UNIT: OrgKind.SERVICE_UNIT,
}
MIN_PASSWORD_LENGTH = 8


def create_account(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str | None = None,
    organization_id: int | None = None,
    volunteer_id: int | None = None,
) -> User:
    """Create a user after checking that the role is bound to the right organization or volunteer.

    The binding decides the user's scope, so a county-office account tied to a unit (or to nothing)
    would see the wrong people; refuse it here rather than let scope_for guess.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AppError(f"密码至少{MIN_PASSWORD_LENGTH}位", status=422, code="weak_password")
    if role is Role.VOLUNTEER:
        if volunteer_id is None or organization_id is not None:
            raise AppError(
                "志愿者账号须指定志愿者（volunteer_id），且不能指定单位", status=422, code="bad_binding"
            )
        if session.get(Volunteer, volunteer_id) is None:
            raise NotFound(f"志愿者（编号{volunteer_id}）不存在")
    else:
        kind = _ROLE_ORG_KIND[role]
        if volunteer_id is not None:
            raise AppError("只有志愿者账号可以指定志愿者", status=422, code="bad_binding")
        if organization_id is None:
            raise AppError(f"该角色须指定所属{kind.value}（organization_id）", status=422, code="bad_binding")
        org = session.get(Organization, organization_id)
        if org is None:
            raise NotFound(f"单位（编号{organization_id}）不存在")
        if org.kind != kind.value:
            raise AppError(
                f"该角色须属于{kind.value}，而“{org.name}”是{org.kind}", status=422, code="bad_binding"
            )
    return create_user(
        session,
        username=username,
        password=password,
        role=role,
        display_name=display_name,
        organization_id=organization_id,
        volunteer_id=volunteer_id,
    )


def list_users(session: Session, *, limit: int, offset: int) -> tuple[list[User], int]:
    total = session.exec(select(func.count()).select_from(User)).one()
    users = session.exec(select(User).order_by(User.id).limit(limit).offset(offset)).all()  # type: ignore[arg-type]
    return list(users), total
