"""Accounts: create, authenticate. Flushes only; the caller's transaction commits."""

from __future__ import annotations

from sqlmodel import Session, select

from service.errors import Conflict
from service.users.security import hash_password, verify_password
from storage.models import Role, User


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
