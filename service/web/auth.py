"""登录 and 退出, and the front door: the dashboard for a logged-in user, the login form for anyone else."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from service.users import service as users
from service.web.deps import MaybeUser, PageDB, PageForm, PageSession, text
from service.web.rendering import redirect, render, safe_next
from service.web.revocation import end_session
from service.web.routing import page_router, replace_session
from service.web.session import new_session

router = page_router()


@router.get("/")
def home(request: Request, user: MaybeUser) -> Response:
    if user is not None:
        return redirect("/dashboard")
    return render(request, "login.html", {"next": "/dashboard", "username": ""})


@router.get("/login")
def login_page(request: Request, user: MaybeUser, next: str = "/dashboard") -> Response:
    if user is not None:
        return redirect(safe_next(next))
    return render(request, "login.html", {"next": safe_next(next), "username": ""})


@router.post("/login")
def login(request: Request, db: PageDB, form: PageForm, web: PageSession) -> Response:
    """Check the password; on success a new session (new id and CSRF token), so a planted cookie is
    worthless, and a session it replaces is ended like at 退出 (its copies would outlive it otherwise).
    """
    username = text(form, "username", max_length=100)
    target = safe_next(text(form, "next", max_length=500))
    user = users.authenticate(db, username, str(form.get("password") or "")[:200])
    if user is None or user.id is None:
        context = {"next": target, "username": username, "error": "用户名或密码错误"}
        return render(request, "login.html", context, status=401)
    if web.logged_in:
        end_session(db, web.sid)
    replace_session(request, new_session(user.id))
    return redirect(target)


@router.post("/logout")
def logout(request: Request, db: PageDB, web: PageSession) -> Response:
    """End the session in the database, not just in this browser: a copy of the cookie dies with it."""
    if web.logged_in:
        end_session(db, web.sid)
    replace_session(request, new_session())
    return redirect("/login")
