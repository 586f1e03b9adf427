"""Request dependencies shared by every domain: the session, the current user and their scope."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from service.audit.service import Actor
from service.config import Settings, get_settings
from service.errors import Forbidden, Unauthorized
from service.users.scope import Scope, scope_for
from service.users.security import read_access_token
from storage.db import get_engine
from storage.models import Role, User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_session() -> Iterator[Session]:
    """One transaction per request: commit when the handler returns, roll back on any error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_current_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User:
    user: User | None = None
    if token is not None:
        user_id = read_access_token(token, settings.secret_key)
        user = session.get(User, user_id) if user_id is not None else None
    elif request.method in ("GET", "HEAD"):
        # Our own pages read JSON (batch progress) with the browser's session cookie. Reads only:
        # a cookie never authorizes a change, so the API needs no CSRF token. A logged-out
        # session's cookie reads nothing either.
        from service.web.revocation import cookie_user
        from service.web.session import COOKIE

        user = cookie_user(session, request.cookies.get(COOKIE), settings.secret_key)
    if user is None or not user.active:
        raise Unauthorized("未登录或登录已过期，请重新登录")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_scope(session: SessionDep, user: CurrentUser) -> Scope:
    return scope_for(session, user)


CurrentScope = Annotated[Scope, Depends(get_scope)]


def actor(request: Request, user: User | None = None) -> Actor:
    """Who did it, for the audit trail: the account, or the holder of a signing link (no account).

    The one place that names a request's actor, so the API and the pages record the same person
    the same way (the audit trail cuts over-long values itself).
    """
    name = f"{user.display_name}（{user.username}）" if user else "签署链接持有人"
    ip = request.client.host if request.client else None
    return Actor(name, ip=ip, user_agent=request.headers.get("user-agent"))


def user_actor(request: Request, user: CurrentUser) -> Actor:
    """The logged-in caller as the actor, for handlers that need no other use of the user."""
    return actor(request, user)


UserActor = Annotated[Actor, Depends(user_actor)]


def require_roles(*roles: Role):  # type: ignore[no-untyped-def]
    """A dependency that lets only the given roles through (403 otherwise)."""

    def _check(user: CurrentUser) -> User:
        if Role(user.role) not in roles:
            raise Forbidden("当前账号无权执行此操作")
        return user

    return Depends(_check)
