"""The route class every page uses: it loads the session cookie, refuses a POST without the form's
CSRF token, and writes the cookie back when it changed.

Putting the check in the route class, not in each handler, means a new form cannot forget it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from service.config import get_settings
from service.errors import AppError, Forbidden
from service.web import session as web_session

PAGE_FLAG = "xibu.page"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Form boundaries and the other fields, on top of the largest file a form may carry.
_MULTIPART_OVERHEAD = 64 * 1024
# The appraisal form has two fields per volunteer in view; a region admin may see a whole cohort.
_MAX_FIELDS = 10_000

# What every page response says to the browser: nothing from elsewhere (no CDN, no inline script or
# style), never framed, no referrer beyond our own site (a signing link carries its token in the path),
# and pages holding personal data are not cached.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class CsrfRejected(Forbidden):
    code = "csrf_rejected"


def load_session(request: Request) -> web_session.WebSession:
    """The visitor's session (a fresh anonymous one if the cookie is missing, forged or expired).

    A logged-in session is not refreshed here: it may have been ended by 退出, which only the
    database knows, and re-issuing it would outlive the record of its end. ``settle_session``
    refreshes it once the user's lookup has vouched for it.
    """
    found = getattr(request.state, "web_session", None)
    if isinstance(found, web_session.WebSession):
        return found
    now = datetime.now(UTC)
    current = web_session.decode(request.cookies.get(web_session.COOKIE), get_settings().secret_key)
    dirty = False
    if current is None:
        current, dirty = web_session.new_session(now=now), True
    elif not current.logged_in and current.needs_refresh(now):
        current, dirty = web_session.refreshed(current, now), True
    request.state.web_session = current
    request.state.web_session_dirty = dirty
    return current


def replace_session(request: Request, new: web_session.WebSession) -> None:
    """Log in or out: the response carries the new cookie."""
    request.state.web_session = new
    request.state.web_session_dirty = True


def settle_session(request: Request, live: bool) -> None:
    """After the user's lookup: a live session slides on; an ended one is dropped like an expired one.

    Replacing an ended (or deactivated user's) session with a fresh anonymous one gives its holder a
    visitor's cookie and a new CSRF token, exactly what an expired cookie gets.
    """
    current = load_session(request)
    if not current.logged_in:
        return
    now = datetime.now(UTC)
    if not live:
        replace_session(request, web_session.new_session(now=now))
    elif current.needs_refresh(now):
        replace_session(request, web_session.refreshed(current, now))


def finish_response(request: Request, response: Response) -> Response:
    """Write the session cookie if it changed, and the page security headers."""
    if getattr(request.state, "web_session_dirty", False):
        settings = get_settings()
        web_session.set_cookie(
            response,
            request.state.web_session,
            settings.secret_key,
            secure=settings.public_url.startswith("https://"),
        )
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def check_csrf(request: Request, session: web_session.WebSession) -> None:
    """Refuse an unsafe request whose form does not carry this session's CSRF token (403)."""
    limit = get_settings().max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _MULTIPART_OVERHEAD:
        raise AppError(f"文件过大，上限为{limit // (1024 * 1024)}MB", status=413, code="file_too_large")
    form = await request.form(max_files=1, max_fields=_MAX_FIELDS)  # parsed once, cached on the request
    if not web_session.csrf_matches(session, form.get(web_session.CSRF_FIELD)):
        raise CsrfRejected("页面已过期或来源无法确认，请返回、刷新页面后重试", code="csrf_rejected")


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            request.scope[PAGE_FLAG] = True  # errors from here on render as pages, not problem+json
            session = load_session(request)
            if request.method not in _SAFE_METHODS:
                await check_csrf(request, session)
            return finish_response(request, await inner(request))

        return handler


def page_router(**options: Any) -> APIRouter:
    """A router for HTML pages: the page route class, and no place in the API schema."""
    return APIRouter(route_class=PageRoute, include_in_schema=False, **options)


def is_page(request: Request) -> bool:
    return bool(request.scope.get(PAGE_FLAG))
