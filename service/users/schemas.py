"""Request and response bodies for login and accounts. Password hashes never leave the server."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from storage.models import Role


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="有效期（秒）")


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=8, max_length=200)
    role: Role
    display_name: str | None = Field(default=None, max_length=100)
    organization_id: int | None = None
    volunteer_id: int | None = None


class UserRead(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    organization_id: int | None
    volunteer_id: int | None
    active: bool
    created_at: datetime
