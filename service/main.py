"""The FastAPI application: mounts each domain's router, one error handler, health check."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from service.errors import install_handlers
from service.logging import install as install_log_redaction
from service.web import install as install_web


def create_app() -> FastAPI:
    install_log_redaction()
    app = FastAPI(
        title="西部计划文书签署平台 Xibu Docs",
        version="0.1.0",
        docs_url="/docs",
        openapi_url="/openapi.json",
        lifespan=_lifespan,
    )
    install_handlers(app)
    # The public code lookup, the busiest route, is matched first and one router level up: Starlette
    # tries routes in order, and each level of nesting costs time on every request (bench/verify.py).
    app.include_router(_verification_api(), prefix="/api/v1")
    # The page a QR code opens, next: at the root (QR codes carry /v/{code}), before the API's routes.
    app.include_router(_verification_pages())
    api = APIRouter(prefix="/api/v1")
    for router in _domain_routers():
        api.include_router(router)
    app.include_router(api)
    app.include_router(_pki_router())  # at the root: certificates embed /pki/... URLs

    install_web(app)  # the pages, "/" included (login or dashboard), /static, HTML error pages

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        from sqlalchemy import text

        from storage.db import get_engine

        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    return app


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    yield
    # The lookups' batching thread (PostgreSQL) holds a connection of its own: closed with the loop.
    from service.verification import batching

    batching.close()


def _pki_router() -> APIRouter:
    from service.pki.routes import router

    return router


def _verification_api() -> APIRouter:
    from service.verification.routes import router

    return router


def _verification_pages() -> APIRouter:
    from service.verification.pages import router

    return router


def _domain_routers() -> list[APIRouter]:
    """Every domain's JSON API, in one list so the mounting order is obvious."""
    from service.agreements.routes import router as agreements
    from service.appraisals.routes import router as appraisals
    from service.audit.routes import router as audit
    from service.cohorts.routes import router as cohorts
    from service.documents.routes import router as documents
    from service.imports.routes import router as imports
    from service.organizations.routes import router as organizations
    from service.users.routes import router as users
    from service.volunteers.routes import router as volunteers

    return [users, cohorts, organizations, imports, volunteers, appraisals, documents, audit, agreements]


app = create_app()
# Everything imported so far lives as long as the process: keep it out of the cyclic collector's
# full passes, which otherwise walk it all and stall every request in flight (the p99 of lookups).
gc.freeze()
