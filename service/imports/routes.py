"""Upload an intake sheet: ``POST /api/v1/imports`` writes it, ``POST /api/v1/imports/check`` only checks it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.deps import CurrentScope, CurrentUser, SessionDep, require_roles
from service.imports.schemas import ImportReport
from service.imports.service import import_sheet
from service.uploads import UploadDep, file_body
from storage.models import Role

router = APIRouter(prefix="/imports", tags=["imports"])

_UPLOAD_BODY = file_body()
_OFFICES = require_roles(Role.REGION_ADMIN, Role.LEAGUE_OFFICE, Role.COUNTY_OFFICE)


@router.post(
    "",
    response_model=ImportReport,
    dependencies=[_OFFICES],
    openapi_extra=_UPLOAD_BODY,
    responses={413: {"description": "文件过大"}, 422: {"description": "表格有错误，未写入任何数据"}},
)
def upload_sheet(
    upload: UploadDep,
    session: SessionDep,
    user: CurrentUser,
    scope: CurrentScope,
    cohort: Annotated[str, Query(description="年度，如 2020-2021")],
) -> ImportReport:
    """导入志愿者信息表：全部正确才写入；盟市、旗县项目办只能导入本辖区的志愿者。"""
    return import_sheet(session, upload.data, upload.filename, cohort, scope=scope, user_id=user.id)


@router.post(
    "/check",
    response_model=ImportReport,
    dependencies=[_OFFICES],
    openapi_extra=_UPLOAD_BODY,
    responses={413: {"description": "文件过大"}, 422: {"description": "表格有错误"}},
)
def check_sheet(
    upload: UploadDep,
    session: SessionDep,
    scope: CurrentScope,
    cohort: Annotated[str, Query(description="年度，如 2020-2021")],
) -> ImportReport:
    """只检查志愿者信息表，报告将新增、更新的人数和全部错误，不写入任何数据。"""
    return import_sheet(session, upload.data, upload.filename, cohort, scope=scope, dry_run=True)
