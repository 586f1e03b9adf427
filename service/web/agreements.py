"""协议: the office's list (filters league / county / unit / state), creation, and each agreement's page
with every signer's status, the audit trail, resend, void, revoke, supersede and download.

Signing links are shown once, on the page that created them, as the API shows them once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from service.agreements import repository, service, signer
from service.agreements.turns import IssuedLink
from service.audit import service as audit
from service.config import get_settings
from service.deps import actor
from service.documents import service as documents
from service.documents.converter import shared_converter
from service.errors import AppError
from service.users.scope import Scope
from service.web import readmodels
from service.web.deps import OFFICES, PageDB, PageForm, PageScope, PageUser, page_roles, text
from service.web.labels import AGREEMENT_STATES, agreement_state
from service.web.rendering import redirect, render
from service.web.routing import page_router
from storage.archive import Archive
from storage.models import Role, SigningRequest, User

# Units see the agreements of their own volunteers and sign from their account; offices manage them.
router = page_router(dependencies=[page_roles(*OFFICES, Role.SERVICE_UNIT)])
OFFICE_ONLY = [page_roles(*OFFICES)]
PAGE_SIZE = 50

# After a form, the detail page says what happened; fixed texts, so nothing from the URL is echoed.
_DONE = {
    "voided": "协议已作废，所有签署链接已失效。",
    "revoked": "文书已撤销，公开验证将显示“已撤销”。",
    "signed": "已以本单位身份签署。",
}


def _archive() -> Archive:
    return Archive.at(get_settings().data_dir)


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise AppError("日期格式应为 年-月-日，如 2020-08-14", status=422, code="bad_date") from None


@router.get("/agreements")
def agreements_page(
    request: Request,
    db: PageDB,
    user: PageUser,
    scope: PageScope,
    cohort: str = "",
    league: str = "",
    county: str = "",
    unit: str = "",
    state: str = "",
    page: int = 1,
) -> Response:
    chosen, every = readmodels.pick_cohort(db, cohort or None)
    filters = {"league": league, "county": county, "unit": unit, "state": state}
    rows: list[readmodels.AgreementRow] = []
    total = 0
    page = max(page, 1)
    if chosen is not None and chosen.id is not None:
        f = readmodels.AgreementFilters(
            chosen.id,
            league or None,
            county or None,
            _int(unit),
            state if state in AGREEMENT_STATES else None,
        )
        rows, total = readmodels.agreement_rows(db, scope, f, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    context: dict[str, Any] = {
        "cohort": chosen,
        "cohorts": every,
        "filters": filters,
        "rows": rows,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "states": AGREEMENT_STATES,
        "places": readmodels.places(db, scope),
        "units": readmodels.units(db, scope, league=league or None, county=county or None) if county else [],
    }
    return render(request, "agreements.html", context)


def _new_form(db: PageDB, values: dict[str, str]) -> dict[str, Any]:
    chosen, every = readmodels.pick_cohort(db, values.get("cohort") or None)
    defaults = {"cohort": chosen.code if chosen else "", "id_number": "", "year": "1", "expires_on": "",
                "county_office": "", "unit": "", "volunteer": ""}  # fmt: skip
    return {"cohorts": every, "cohort": chosen, "values": {**defaults, **values}}


@router.get("/agreements/new", dependencies=OFFICE_ONLY)
def new_agreement_page(request: Request, db: PageDB, user: PageUser, cohort: str = "") -> Response:
    return render(request, "agreement_new.html", _new_form(db, {"cohort": cohort}))


@router.post("/agreements/new", dependencies=OFFICE_ONLY)
def create_agreement(
    request: Request, db: PageDB, user: PageUser, scope: PageScope, form: PageForm
) -> Response:
    """One volunteer's agreement (by ID number) and a link per party; bulk creation is the CLI's and API's."""
    values = {
        name: text(form, name, max_length=200)
        for name in ("cohort", "id_number", "year", "expires_on", "county_office", "unit", "volunteer")
    }
    try:
        if not values["id_number"]:
            raise AppError("请填写志愿者的身份证号", status=422, code="id_number_required")
        terms = repository.terms_for(db, scope, values["cohort"], id_number=values["id_number"])
        if not terms:
            raise AppError("没有找到该志愿者的服务记录（或不在您的管辖范围内）", status=404, code="not_found")
        recipients = {p: values[p] for p in ("county_office", "unit", "volunteer") if values[p]}
        created, skipped = service.create_many(
            db, _archive(), shared_converter(), terms, year=_int(values["year"]) or 1,
            expires_on=_date(values["expires_on"]), recipients=recipients, actor=actor(request, user),
            refuse_not_ready=True,
        )  # fmt: skip
        if skipped:
            raise AppError(
                f"该志愿者本服务年的协议已存在（编号{skipped[0].number}）；如需重新签发，请在协议页面操作",
                status=409,
                code="exists",
            )
    except AppError as exc:
        db.rollback()
        return render(request, "agreement_new.html", {**_new_form(db, values), "error": exc.message},
                      status=exc.status)  # fmt: skip
    first = created[0]
    return _links_page(request, db, first.document.id, first.links, "协议已创建", warnings=first.warnings)


def _links_page(
    request: Request,
    db: PageDB,
    document_id: int | None,
    links: list[IssuedLink],
    title: str,
    *,
    warnings: list[service.RecipientMissing] | None = None,
) -> Response:
    assert document_id is not None
    db.commit()  # the links work only once the transaction is in; show them after that
    doc = documents.get_document(db, document_id)
    context = {"doc": doc, "links": links, "title": title, "warnings": warnings or []}
    return render(request, "agreement_links.html", context)


@router.get("/agreements/{document_id}")
def agreement_page(
    request: Request, db: PageDB, user: PageUser, scope: PageScope, document_id: int, done: str = ""
) -> Response:
    return _detail(request, db, user, scope, document_id, notice=_DONE.get(done))


def _detail(
    request: Request,
    db: PageDB,
    user: User,
    scope: Scope,
    document_id: int,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    doc = repository.visible_document(db, scope, document_id)
    requests = service.requests_of(db, document_id)
    signed = sum(r.status == "signed" for r in requests)
    context = {
        "doc": doc,
        "about": readmodels.agreement_context(db, doc.term_id or 0),
        "requests": requests,
        "state": agreement_state(doc.signing_state, signed),
        "events": audit.events(db, document_id),
        "resendable": [r for r in requests if r.status == "open"],
        "office": Role(user.role) in OFFICES,
        "can_revoke": Role(user.role) is Role.REGION_ADMIN and doc.status == "issued",
        "my_party": _my_party(user, requests),
        "mask": service.mask_recipient,
        "notice": notice,
        "error": error,
    }
    return render(request, "agreement.html", context, status=status)


@router.get("/agreements/{document_id}/pdf")
def agreement_pdf(
    request: Request, db: PageDB, user: PageUser, scope: PageScope, document_id: int
) -> Response:
    doc, data = service.download(db, _archive(), scope, document_id, actor(request, user))
    headers = {"Content-Disposition": f'attachment; filename="agreement-{doc.id}-v{doc.version}.pdf"'}
    return Response(data, media_type="application/pdf", headers=headers)


@router.post("/agreements/{document_id}/resend", dependencies=OFFICE_ONLY)
def resend_link(
    request: Request, db: PageDB, user: PageUser, scope: PageScope, form: PageForm, document_id: int
) -> Response:
    repository.visible_document(db, scope, document_id)
    link = service.resend(
        db, document_id, text(form, "party", max_length=20), actor(request, user),
        recipient=text(form, "recipient", max_length=200) or None,
    )  # fmt: skip
    return _links_page(request, db, document_id, [link], "已重新发送签署链接")


@router.post("/agreements/{document_id}/void", dependencies=OFFICE_ONLY)
def void_agreement(
    request: Request, db: PageDB, user: PageUser, scope: PageScope, form: PageForm, document_id: int
) -> Response:
    repository.visible_document(db, scope, document_id)
    service.void(db, document_id, text(form, "reason"), actor(request, user))
    return redirect(f"/agreements/{document_id}?done=voided")


@router.post("/agreements/{document_id}/revoke", dependencies=OFFICE_ONLY)
def revoke_agreement(
    request: Request, db: PageDB, user: PageUser, scope: PageScope, form: PageForm, document_id: int
) -> Response:
    """Revoke the document (region office only, as in the API); the public lookup shows it at once."""
    _region_only(user)
    repository.visible_document(db, scope, document_id)
    documents.revoke(db, document_id, text(form, "reason"), actor=actor(request, user))
    return redirect(f"/agreements/{document_id}?done=revoked")


@router.post("/agreements/{document_id}/reissue", dependencies=OFFICE_ONLY)
def reissue_agreement(
    request: Request, db: PageDB, user: PageUser, scope: PageScope, form: PageForm, document_id: int
) -> Response:
    """Supersede: void this agreement's signing and issue a corrected one with new links."""
    repository.visible_document(db, scope, document_id)
    created = service.reissue(
        db, _archive(), shared_converter(), document_id, text(form, "reason"), actor(request, user),
        expires_on=_date(text(form, "expires_on", max_length=10)),
    )  # fmt: skip
    return _links_page(
        request,
        db,
        created.document.id,
        created.links,
        "已重新签发，原协议已被替代",
        warnings=created.warnings,
    )


@router.post("/agreements/{document_id}/sign")
def sign_from_account(
    request: Request, db: PageDB, user: PageUser, scope: PageScope, form: PageForm, document_id: int
) -> Response:
    """A county office or unit user signs for their organization; refused on the page out of turn."""
    try:
        signer.sign_from_account(db, _archive(), scope, user, document_id, actor(request, user))
    except AppError as exc:
        db.rollback()
        return _detail(request, db, user, scope, document_id, error=exc.message, status=exc.status)
    return redirect(f"/agreements/{document_id}?done=signed")


def _my_party(user: User, requests: list[SigningRequest]) -> SigningRequest | None:
    """The request the user's organization signs, if it is a party (offer 以本单位身份签署)."""
    if user.organization_id is None or Role(user.role) not in (Role.COUNTY_OFFICE, Role.SERVICE_UNIT):
        return None
    return next(
        (
            r
            for r in requests
            if r.organization_id == user.organization_id and r.status in ("open", "waiting")
        ),
        None,
    )


def _region_only(user: User) -> None:
    if Role(user.role) is not Role.REGION_ADMIN:
        from service.errors import Forbidden

        raise Forbidden("只有自治区项目办可以撤销文书")
