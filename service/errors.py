"""Errors carry their HTTP status and a Chinese message; one handler renders them as problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.cohorts.rules import RuleViolation

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """A refusal a person should read: ``message`` is Chinese, ``status`` the HTTP status."""

    status: int = 400
    code: str = "bad_request"

    def __init__(
        self, message: str, *, status: int | None = None, code: str | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.extra = extra


class NotFound(AppError):
    status = 404
    code = "not_found"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class Conflict(AppError):
    status = 409
    code = "conflict"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


def problem(
    status: int, title: str, detail: str, code: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {
        "type": f"about:blank#{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    headers = {**(headers or {}), **({"WWW-Authenticate": "Bearer"} if status == 401 else {})}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers or None)


_TITLES = {
    400: "请求有误",
    401: "未登录或登录已过期",
    403: "无权访问",
    404: "未找到",
    409: "状态冲突",
    413: "文件过大",
    422: "数据校验失败",
    429: "请求过于频繁",
    500: "服务器内部错误",
}


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        # A refusal that says when to come back (429) says it in the header clients act on, too.
        wait = exc.extra.get("retry_after")
        headers = {"Retry-After": str(wait)} if wait is not None else None
        title = _TITLES.get(exc.status, "错误")
        return problem(exc.status, title, exc.message, exc.code, headers=headers, **exc.extra)

    @app.exception_handler(RuleViolation)
    async def _rule(_request: Request, exc: RuleViolation) -> JSONResponse:
        # A programme rule refused the data the client sent; the message says which rule.
        return problem(422, _TITLES[422], exc.message, exc.code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": e.get("type", ""),
            }
            for e in exc.errors()
        ]
        return problem(422, _TITLES[422], "请求数据不符合要求", "validation_error", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "错误")
        return problem(
            exc.status_code, _TITLES.get(exc.status_code, "错误"), detail, f"http_{exc.status_code}"
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # Logged by the server with its traceback; the client only learns that it failed.
        return problem(500, _TITLES[500], "服务器内部错误，请稍后重试或联系管理员", "internal_error")
