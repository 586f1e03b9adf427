"""Page dependencies: the transaction, the logged-in user and their scope, the parsed form.

The page transaction commits *before* the response is sent (``scope="function"``): a form answered
with a redirect must not let the browser's next request see the state from before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from service.deps import get_session
from service.errors import AppError, Forbidden, Unauthorized
from service.uploads import read_limited
from service.users.scope import Scope, scope_for
from service.web.revocation import session_user
from service.web.routing import load_session, settle_session
from service.web.session import WebSession
from storage.db import get_engine
from storage.models import Role, User

PageDB = Annotated[Session, Depends(get_session, scope="function")]


@dataclass(frozen=True)
class Viewer:
    """Who the layout says is logged in: plain values, usable after the transaction has ended."""

    id: int
    username: str
    display_name: str
    role: str


class LoginRequired(Unauthorized):
    """Rendered as a redirect to the login page, coming back here afterwards."""

    code = "login_required"


def current_session(request: Request) -> WebSession:
    return load_session(request)


PageSession = Annotated[WebSession, Depends(current_session)]


def optional_user(request: Request, db: PageDB, web: PageSession) -> User | None:
    """The logged-in user, or None for a visitor (signing and verification pages need no account).

    A session ended by 退出 counts as a visitor's, like an expired cookie, so a copy of the cookie
    taken before the logout opens nothing afterwards.
    """
    if web.user_id is None:
        return None
    user = session_user(db, web)
    settle_session(request, user is not None)
    if user is None:
        return None
    # The layout shows who is logged in, also on an error page after a rollback expired the row.
    request.state.page_user = Viewer(user.id or 0, user.username, user.display_name, user.role)
    return user


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise LoginRequired("请先登录")
    return user


MaybeUser = Annotated[User | None, Depends(optional_user)]


def _viewer(request: Request, web: WebSession) -> Viewer | None:
    with Session(get_engine()) as db:
        user = session_user(db, web)
        viewer = Viewer(user.id or 0, user.username, user.display_name, user.role) if user else None
    settle_session(request, viewer is not None)
    if viewer is not None:
        request.state.page_user = viewer
    return viewer


async def optional_viewer(request: Request) -> Viewer | None:
    """Who is logged in, for the layout only, on public pages that need no transaction of their own.

    A visitor (most of those who scan a QR code) costs no query and no thread; a logged-in user one
    read of their row (which also checks the session was not ended), so the header and navigation
    stay theirs on the verification pages too.
    """
    web = load_session(request)
    if web.user_id is None:
        return None
    return await run_in_threadpool(_viewer, request, web)


MaybeViewer = Annotated[Viewer | None, Depends(optional_viewer)]
PageUser = Annotated[User, Depends(current_user)]


def current_scope(db: PageDB, user: PageUser) -> Scope:
    return scope_for(db, user)


PageScope = Annotated[Scope, Depends(current_scope)]


def page_roles(*roles: Role) -> Any:
    """A dependency that lets only the given roles see the page (403 page otherwise)."""

    def _check(user: PageUser) -> User:
        if Role(user.role) not in roles:
            raise Forbidden("当前账号无权访问此页面")
        return user

    return Depends(_check)


OFFICES = (Role.REGION_ADMIN, Role.LEAGUE_OFFICE, Role.COUNTY_OFFICE)


async def page_form(request: Request) -> FormData:
    """The submitted form; the page route has already parsed it and checked its CSRF token."""
    return await request.form()


PageForm = Annotated[FormData, Depends(page_form)]


def text(form: FormData, name: str, *, max_length: int = 500) -> str:
    """A text field, stripped; an over-long one is refused rather than cut."""
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    value = value.strip()
    if len(value) > max_length:
        raise AppError(f"“{name}”过长（最多{max_length}个字符）", status=422, code="field_too_long")
    return value


async def upload(form: FormData, name: str, limit: int) -> tuple[str, bytes] | None:
    """The file in field ``name`` (its name and bytes); None when none was chosen."""
    part = form.get(name)
    if not isinstance(part, UploadFile) or not part.filename:
        return None
    return part.filename, await read_limited(part, limit)
