"""``POST /api/v1/imports``: offices upload sheets within their scope; refusals are problem+json in Chinese."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.config import Settings
from service.errors import install_handlers
from service.imports.routes import router
from service.organizations.service import county_office, league_office, region_office
from service.users.security import create_access_token
from service.users.service import create_user
from storage.models import Role
from tests.conftest import SHEET_CSV, SHEET_XLSX
from tests.imports.sheets import column, counts, shared_rows, to_csv

URL = "/api/v1/imports?cohort=2020-2021"


@pytest.fixture()
def api(engine: object) -> Iterator[TestClient]:
    """Only this domain's router: the other domains' routes are not needed to test it."""
    app = FastAPI()
    install_handlers(app)
    api_router = APIRouter(prefix="/api/v1")
    api_router.include_router(router)
    app.include_router(api_router)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def bearer(
    session: Session, settings: Settings, role: Role, league: str = "", county: str = ""
) -> dict[str, str]:
    if role is Role.COUNTY_OFFICE:
        org = county_office(session, league, county)
    elif role is Role.LEAGUE_OFFICE:
        org = league_office(session, league)
    else:
        org = region_office(session)
    user = create_user(
        session, username=f"{role.value}{county}", password="pw-0123456789", role=role, organization_id=org.id
    )
    session.commit()
    assert user.id is not None
    return {"Authorization": f"Bearer {create_access_token(user.id, settings.secret_key, 30)}"}


def upload(client: TestClient, headers: dict[str, str], data: bytes, name: str = "sheet.csv", url: str = URL):
    return client.post(url, headers=headers, files={"file": (name, data, "text/csv")})


def test_region_admin_uploads_csv_then_xlsx(api: TestClient, session: Session, settings: Settings) -> None:
    admin = bearer(session, settings, Role.REGION_ADMIN)

    first = upload(api, admin, SHEET_CSV.read_bytes())
    again = upload(api, admin, SHEET_XLSX.read_bytes(), "volunteers-2020.xlsx")

    assert first.status_code == 200, first.text
    assert (first.json()["created"], again.json()["unchanged"]) == (1315, 1315)
    assert first.json()["warnings"] and counts(session)["ImportRun"] == 2


def test_check_endpoint_reports_without_writing(
    api: TestClient, session: Session, settings: Settings
) -> None:
    admin = bearer(session, settings, Role.REGION_ADMIN)

    response = upload(api, admin, SHEET_CSV.read_bytes(), url="/api/v1/imports/check?cohort=2020-2021")

    assert response.status_code == 200 and response.json()["status"] == "checked"
    assert response.json()["created"] == 1315 and counts(session)["Volunteer"] == 0


def test_sheet_errors_are_422_problem_json_with_the_report(
    api: TestClient, session: Session, settings: Settings
) -> None:
    admin = bearer(session, settings, Role.REGION_ADMIN)
    header, rows = shared_rows()
    rows[2][column(header, "专项")] = "服务火星"

    response = upload(api, admin, to_csv(header, rows))

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "import_rejected" and "专项" in body["detail"]
    assert [(e["row"], e["column"]) for e in body["report"]["errors"]] == [(4, "专项")]
    assert counts(session)["Volunteer"] == 0


def test_county_office_imports_only_its_own_county(
    api: TestClient, session: Session, settings: Settings
) -> None:
    header, rows = shared_rows()
    office = bearer(session, settings, Role.COUNTY_OFFICE, "赤峰市", "红山区")
    mine = [r for r in rows if r[column(header, "服务旗县")] == "红山区"]

    whole = upload(api, office, SHEET_CSV.read_bytes())
    own = upload(api, office, to_csv(header, mine))

    assert whole.status_code == 422
    errors = whole.json()["report"]["errors"]
    assert whole.json()["report"]["error_count"] == len(rows) - len(mine)
    assert all(e["column"] == "服务旗县" and "管辖范围" in e["message"] for e in errors)
    assert own.status_code == 200 and own.json()["created"] == len(mine)
    assert counts(session)["Volunteer"] == len(mine)


def test_county_office_cannot_move_a_volunteer_of_another_county(
    api: TestClient, session: Session, settings: Settings
) -> None:
    header, rows = shared_rows()
    admin = bearer(session, settings, Role.REGION_ADMIN)
    assert upload(api, admin, SHEET_CSV.read_bytes()).status_code == 200
    office = bearer(session, settings, Role.COUNTY_OFFICE, "赤峰市", "红山区")
    other = next(r for r in rows if r[column(header, "服务盟市")] != "赤峰市")
    other[column(header, "服务盟市")], other[column(header, "服务旗县")] = "赤峰市", "红山区"

    response = upload(api, office, to_csv(header, [other]))

    assert response.status_code == 422 and "已登记在" in response.json()["report"]["errors"][0]["message"]


def test_league_office_imports_its_league(api: TestClient, session: Session, settings: Settings) -> None:
    header, rows = shared_rows()
    office = bearer(session, settings, Role.LEAGUE_OFFICE, "兴安盟")
    mine = [r for r in rows if r[column(header, "服务盟市")] == "兴安盟"]

    response = upload(api, office, to_csv(header, mine))

    assert response.status_code == 200 and response.json()["created"] == len(mine) > 0


def test_who_may_upload(api: TestClient, session: Session, settings: Settings) -> None:
    unit = bearer(session, settings, Role.SERVICE_UNIT)

    assert upload(api, {}, SHEET_CSV.read_bytes()).status_code == 401
    assert upload(api, unit, SHEET_CSV.read_bytes()).status_code == 403
    assert upload(api, {"Authorization": "Bearer nonsense"}, b"x").status_code == 401


def test_oversized_and_hostile_uploads_are_refused_cleanly(
    api: TestClient, session: Session, settings: Settings
) -> None:
    admin = bearer(session, settings, Role.REGION_ADMIN)
    limit = settings.max_upload_bytes

    too_big = upload(api, admin, b"a" * (limit + 1))
    far_too_big = upload(api, admin, b"a" * (limit + 1024 * 1024))  # refused on Content-Length alone
    binary = upload(api, admin, bytes(range(256)) * 64, "data.csv")
    not_zip = upload(api, admin, b"hello", "sheet.xlsx")
    empty = upload(api, admin, b"")
    no_file = api.post(URL, headers=admin, data={"other": "x"})

    assert too_big.status_code == 413 and "过大" in too_big.json()["detail"]
    assert far_too_big.status_code == 413
    for response in (binary, not_zip, empty, no_file):
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert empty.json()["detail"] == "文件为空"
    assert counts(session)["Volunteer"] == 0


def test_bad_cohort_is_400(api: TestClient, session: Session, settings: Settings) -> None:
    admin = bearer(session, settings, Role.REGION_ADMIN)

    response = upload(api, admin, SHEET_CSV.read_bytes(), url="/api/v1/imports?cohort=2020")

    assert response.status_code == 400 and "年度" in response.json()["detail"]
