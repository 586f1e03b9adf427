"""A small programme for API tests: two leagues, three counties, four units, five volunteers, every role."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlmodel import Session

from service.cohorts import service as cohorts
from service.organizations import service as orgs
from storage.models import Cohort, Organization, Role, ServiceTerm, User, Volunteer
from tests.api.factories import create_login, create_unit, create_volunteer

LEAGUE_A, COUNTY_A1, COUNTY_A2 = "呼和浩特市", "回民区", "土默特左旗"
LEAGUE_B, COUNTY_B1 = "包头市", "东河区"


@dataclass
class World:
    cohort: Cohort
    units: dict[str, Organization]
    volunteers: dict[str, Volunteer]
    terms: dict[str, ServiceTerm]
    users: dict[str, User]
    orgs: list[Organization] = field(default_factory=list)

    def vid(self, *keys: str) -> set[int]:
        return {self.volunteers[k].id or 0 for k in keys}

    def tid(self, *keys: str) -> set[int]:
        return {self.terms[k].id or 0 for k in keys}


# Which volunteers each login may see.
VISIBLE = {
    "admin": {"a1", "a1b", "a2", "b1", "b1b"},
    "league_a": {"a1", "a1b", "a2"},
    "league_b": {"b1", "b1b"},
    "county_a1": {"a1", "a1b"},
    "county_a2": {"a2"},
    "county_b1": {"b1", "b1b"},
    "unit_a1": {"a1"},
    "unit_b1": {"b1", "b1b"},
    "vol_a1": {"a1"},
    "vol_b1": {"b1"},
}


@pytest.fixture()
def world(session: Session) -> World:
    cohort = cohorts.get_or_create(session, "2020-2021")
    units = {
        "a1": create_unit(session, LEAGUE_A, COUNTY_A1, "回民区第一中学"),
        "a1b": create_unit(session, LEAGUE_A, COUNTY_A1, "回民区卫生院"),
        "a2": create_unit(session, LEAGUE_A, COUNTY_A2, "土默特左旗第二小学"),
        "b1": create_unit(session, LEAGUE_B, COUNTY_B1, "东河区团委"),
    }
    volunteers: dict[str, Volunteer] = {}
    terms: dict[str, ServiceTerm] = {}
    for key, unit_key, track in [
        ("a1", "a1", "基础教育"),
        ("a1b", "a1b", "医疗卫生"),
        ("a2", "a2", "基础教育"),
        ("b1", "b1", "基层青年工作"),
        ("b1b", "b1", "基层青年工作"),
    ]:
        volunteers[key], terms[key] = create_volunteer(session, cohort, units[unit_key], track=track)
    users = {
        "admin": create_login(session, Role.REGION_ADMIN, organization=orgs.region_office(session)),
        "league_a": create_login(
            session, Role.LEAGUE_OFFICE, organization=orgs.league_office(session, LEAGUE_A)
        ),
        "league_b": create_login(
            session, Role.LEAGUE_OFFICE, organization=orgs.league_office(session, LEAGUE_B)
        ),
        "county_a1": create_login(
            session, Role.COUNTY_OFFICE, organization=orgs.county_office(session, LEAGUE_A, COUNTY_A1)
        ),
        "county_a2": create_login(
            session, Role.COUNTY_OFFICE, organization=orgs.county_office(session, LEAGUE_A, COUNTY_A2)
        ),
        "county_b1": create_login(
            session, Role.COUNTY_OFFICE, organization=orgs.county_office(session, LEAGUE_B, COUNTY_B1)
        ),
        "unit_a1": create_login(session, Role.SERVICE_UNIT, organization=units["a1"]),
        "unit_b1": create_login(session, Role.SERVICE_UNIT, organization=units["b1"]),
        "vol_a1": create_login(session, Role.VOLUNTEER, volunteer=volunteers["a1"]),
        "vol_b1": create_login(session, Role.VOLUNTEER, volunteer=volunteers["b1"]),
    }
    session.commit()
    from sqlmodel import select

    all_orgs = list(session.exec(select(Organization)).all())
    return World(cohort, units, volunteers, terms, users, all_orgs)
