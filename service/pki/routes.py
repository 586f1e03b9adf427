"""Public PKI endpoints, outside ``/api/v1`` because certificates embed their URLs for good.

Party certificates carry ``{public_url}/pki/crl`` (CRL distribution point) and
``{public_url}/pki/issuing.pem`` (AIA caIssuers); the issuing CA carries
``{public_url}/pki/root-crl`` (see ``signing/certs.py``). Renaming a path here would leave
every certificate already issued pointing at nothing, so :data:`EMBEDDED_PATHS` lists them and
a test checks each against a freshly issued certificate.

No login: verifiers anywhere must be able to fetch these.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import APIRouter, Request, Response

from service.config import get_settings
from service.errors import AppError, NotFound
from service.pki import service as pki

router = APIRouter(prefix="/pki", tags=["pki"])

PEM = "application/x-pem-file"
CRL = "application/pkix-crl"
TSQ = "application/timestamp-query"
TSR = "application/timestamp-reply"
MAX_TSQ_BYTES = 4096  # a TimeStampReq is a few hundred bytes; refuse anything far bigger

EMBEDDED_PATHS = ("/pki/crl", "/pki/root-crl", "/pki/issuing.pem")
"""Paths written into certificates; they must keep working for as long as those certificates."""

# CRLs change only on revocation or daily republication; let caches hold them briefly.
_CRL_HEADERS = {"Cache-Control": "public, max-age=300"}
_PEM_HEADERS = {"Cache-Control": "public, max-age=86400"}


@router.get("/root.pem", response_class=Response)
def root_pem() -> Response:
    """The trust anchor: import it to have our signatures shown as trusted."""
    return Response(pki.pki().root_pem, media_type=PEM, headers=_PEM_HEADERS)


@router.get("/issuing.pem", response_class=Response)
def issuing_pem() -> Response:
    """The issuing CA (AIA caIssuers of every party certificate)."""
    data = pki.pki().issuing_cert.public_bytes(Encoding.PEM)
    return Response(data, media_type=PEM, headers=_PEM_HEADERS)


@router.get("/crl", response_class=Response)
def issuing_crl() -> Response:
    """The issuing CA's CRL (DER): every party certificate we revoked."""
    return Response(pki.current_crls()[0], media_type=CRL, headers=_CRL_HEADERS)


@router.get("/root-crl", response_class=Response)
def root_crl() -> Response:
    """The root's CRL (DER), covering the issuing CA."""
    return Response(pki.current_crls()[1], media_type=CRL, headers=_CRL_HEADERS)


@router.post("/tsa", response_class=Response)
async def tsa(request: Request) -> Response:
    """RFC 3161 over HTTP, served only while the built-in TSA is the one we sign with.

    With an external TSA configured, answering here would put a second time source beside it.
    """
    if get_settings().tsa_url:
        raise NotFound("本系统使用外部时间戳服务，未提供内置时间戳服务")
    if request.headers.get("content-type", "").split(";")[0].strip() != TSQ:
        raise AppError("请求类型应为 application/timestamp-query", status=415, code="unsupported_media")
    body = await request.body()
    if len(body) > MAX_TSQ_BYTES:
        raise AppError("时间戳请求过大", status=413, code="too_large")
    stamper = pki.timestamper()
    respond = getattr(stamper, "respond", None)
    if respond is None:  # pragma: no cover - tsa_url unset always means LocalTimeStamper
        raise NotFound("未提供内置时间戳服务")
    return Response(respond(body), media_type=TSR)
