"""Login (OAuth2 password flow), the current user, and account administration for the region office."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from service.deps import CurrentUser, SessionDep, SettingsDep, require_roles
from service.errors import Unauthorized
from service.pagination import Page, PageDep
from service.users import service
from service.users.schemas import Token, UserCreate, UserRead
from service.users.security import create_access_token
from storage.models import Role

router = APIRouter(tags=["auth & users"])


@router.post("/auth/token", response_model=Token)
def login(
    session: SessionDep, settings: SettingsDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> Token:
    """Exchange username and password for a short-lived bearer token."""
    user = service.authenticate(session, form.username, form.password)
    if user is None or user.id is None:
        raise Unauthorized("用户名或密码错误", code="bad_credentials")
    minutes = settings.access_token_minutes
    return Token(
        access_token=create_access_token(user.id, settings.secret_key, minutes), expires_in=minutes * 60
    )


@router.get("/auth/me", response_model=UserRead)
def me(user: CurrentUser) -> UserRead:
    """The account the token belongs to."""
    return UserRead.model_validate(user, from_attributes=True)


@router.post(
    "/users", response_model=UserRead, status_code=201, dependencies=[require_roles(Role.REGION_ADMIN)]
)
def create_user(session: SessionDep, body: UserCreate) -> UserRead:
    """Create an account bound to an office, a unit or a volunteer (region admin only)."""
    user = service.create_account(session, **body.model_dump())
    return UserRead.model_validate(user, from_attributes=True)


@router.get("/users", response_model=Page[UserRead], dependencies=[require_roles(Role.REGION_ADMIN)])
def list_users(session: SessionDep, page: PageDep) -> Page[UserRead]:
    """All accounts (region admin only)."""
    users, total = service.list_users(session, limit=page.limit, offset=page.offset)
    return Page(
        items=[UserRead.model_validate(u, from_attributes=True) for u in users],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
