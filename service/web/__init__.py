"""Server-rendered pages (Jinja2) for offices, signers and verifiers, over the same service functions
as the JSON API. ``install(app)`` mounts them, the local static files and the HTML error pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

__all__ = ["install"]

Handler = Callable[[Request, Exception], Awaitable[Response] | Response]


def install(app: FastAPI) -> None:
    """Mount every page router and ``/static``; errors on pages render as pages, elsewhere as before."""
    from service.web.agreements import router as agreements
    from service.web.appraisals import router as appraisals
    from service.web.auth import router as auth
    from service.web.batches import router as batches
    from service.web.dashboard import router as dashboard
    from service.web.imports import router as imports
    from service.web.rendering import STATIC
    from service.web.signing import router as signing

    # The verification pages are the verification domain's (service/verification/pages.py), mounted
    # by service.main with the QR code's /v addresses; they use this package's routing and layout.
    for router in (auth, dashboard, imports, batches, agreements, appraisals, signing):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for exc_class, handler in list(app.exception_handlers.items()):
        app.exception_handlers[exc_class] = _pages_or(handler)


def _pages_or(json_handler: Handler) -> Handler:
    """The API's handler for API requests; an HTML error page for requests a page route took."""

    async def handler(request: Request, exc: Exception) -> Response:
        from service.web.rendering import error_page
        from service.web.routing import is_page

        if is_page(request):
            return error_page(request, exc)
        result = json_handler(request, exc)
        return await result if isinstance(result, Awaitable) else result

    return handler
