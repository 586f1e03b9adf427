"""The shared Jinja environment (autoescape on everywhere), page rendering, and error pages.

Templates get the request, the logged-in user, the CSRF token and the navigation for the user's
role; handlers pass only what the page is about.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from service.cohorts.rules import RuleViolation
from service.errors import AppError
from service.labels import document_status, event_label, request_status
from service.web import labels
from service.web.deps import LoginRequired, Viewer
from service.web.routing import finish_response, load_session
from storage.models import Role

CHINA = ZoneInfo("Asia/Shanghai")
TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
# A domain that owns pages keeps their templates in its own folder; they are named "<domain>/page.html"
# and extend the site's "base.html", so every page has the same layout, header and stylesheet.
DOMAIN_TEMPLATES = {
    "verification": Path(__file__).resolve().parents[1] / "verification" / "templates",
}


def _environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(TEMPLATES),
                PrefixLoader({name: FileSystemLoader(folder) for name, folder in DOMAIN_TEMPLATES.items()}),
            ]
        ),
        autoescape=True,  # every template, whatever its file name: names and reasons are user input
        undefined=StrictUndefined,  # a misspelt variable fails the page (and its test), never renders empty
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        {
            "cst": format_cst,
            "when": format_when,
            "day": format_day,
            "party": labels.party_title,
            "request_status": request_status,
            "event_label": event_label,
            "document_status": document_status,
            "role_label": labels.role_label,
        }
    )
    return env


def format_cst(moment: datetime | None) -> str:
    """A stored UTC moment as Beijing time, the way offices read it."""
    if moment is None:
        return ""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def format_when(moment: datetime | None) -> str:
    """A moment to the second, in Beijing time and saying so: what a verifier compares with a PDF reader."""
    if moment is None:
        return "—"
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S") + "（北京时间）"


def format_day(day: date | None) -> str:
    return day.strftime("%Y年%m月%d日").replace("年0", "年").replace("月0", "月") if day else ""


env = _environment()
templates = Jinja2Templates(env=env)


# Which pages each role finds in the navigation. Access itself is checked by each page.
_NAV: list[tuple[str, str, tuple[Role, ...]]] = [
    ("/dashboard", "工作台", tuple(Role)),
    ("/imports", "导入", (Role.REGION_ADMIN, Role.LEAGUE_OFFICE, Role.COUNTY_OFFICE)),
    ("/batches", "批量签发", (Role.REGION_ADMIN,)),
    ("/agreements", "协议", (Role.REGION_ADMIN, Role.LEAGUE_OFFICE, Role.COUNTY_OFFICE, Role.SERVICE_UNIT)),
    ("/appraisals", "年度考核", (Role.REGION_ADMIN, Role.LEAGUE_OFFICE, Role.COUNTY_OFFICE)),
    ("/v", "验证", tuple(Role)),
]


def navigation(user: Viewer | None) -> list[tuple[str, str]]:
    if user is None:
        return [("/login", "登录"), ("/v", "验证")]
    role = Role(user.role)
    return [(href, label) for href, label, roles in _NAV if role in roles]


def render(
    request: Request, name: str, context: Mapping[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    user = getattr(request.state, "page_user", None)
    full = {
        "user": user,
        "nav": navigation(user),
        "path": request.url.path,
        "csrf_token": load_session(request).csrf,
        "error": None,
        "notice": None,
        **(context or {}),
    }
    response = templates.TemplateResponse(request, name, full, status_code=status)
    return response


def redirect(url: str) -> RedirectResponse:
    """After a form: 303, so the browser fetches the next page with GET."""
    return RedirectResponse(url, status_code=303)


def attachment(filename: str, fallback: str = "document.pdf") -> dict[str, str]:
    """A download header that carries a Chinese file name (RFC 6266/5987) with an ASCII fallback."""
    return {
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    }


def safe_next(value: str | None) -> str:
    """Only a path on this site: ``next=//evil.example`` or a full URL goes to the dashboard."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/dashboard"


# ---------------------------------------------------------------------------------------------
# Error pages: the same errors the API answers with problem+json, as a page for a browser.

_TITLES = {
    400: "请求有误",
    401: "需要登录",
    403: "无权访问",
    404: "未找到",
    405: "不支持的操作",
    409: "状态冲突",
    410: "链接已失效",
    413: "文件过大",
    422: "提交的内容有误",
    423: "已锁定",
    429: "操作过于频繁",
    500: "服务器内部错误",
    503: "服务暂不可用",
}


def error_page(request: Request, exc: Exception) -> Response:

    if isinstance(exc, LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response: Response = redirect(f"/login?next={quote(target, safe='')}")
        return finish_response(request, response)
    status, message = 500, "服务器内部错误，请稍后重试或联系管理员"
    if isinstance(exc, AppError):
        status, message = exc.status, exc.message
    elif isinstance(exc, RuleViolation):
        status, message = 422, exc.message
    elif isinstance(exc, RequestValidationError):
        status, message = 422, "提交的内容不完整或格式不对，请返回检查后重试"
    elif isinstance(exc, StarletteHTTPException):
        status = exc.status_code
        message = exc.detail if isinstance(exc.detail, str) else _TITLES.get(status, "错误")
    title = _TITLES.get(status, "出错了")
    response = render(request, "error.html", {"title": title, "message": message}, status=status)
    return finish_response(request, response)
