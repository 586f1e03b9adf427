"""What an import finds already there: a handful of queries, whatever the sheet's size.

Read-only: loads the cohort's terms, the sheet's people, and the offices, units and posts of the
sheet's leagues, so that the import compares in memory instead of asking row by row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlmodel import Session, col, select

from service.imports.validation import Record
from storage.models import Cohort, Organization, OrgKind, Post, ServiceTerm, Volunteer

__all__ = ["PostKey", "State", "UnitKey", "load_state"]

_IN_CHUNK = 500  # bound parameters per IN (…): far below SQLite's and PostgreSQL's limits

UnitKey = tuple[str, str, str]  # league, county, unit name
PostKey = tuple[UnitKey, str, str, bool]  # unit, title, track, county level
T = TypeVar("T")


@dataclass
class State:
    cohort_id: int | None
    volunteers: dict[str, Volunteer]
    terms: dict[int, tuple[ServiceTerm, Post]]  # by volunteer id, this cohort only
    offices: dict[tuple[str, str], Organization]
    units: dict[UnitKey, Organization]
    posts: dict[PostKey, Post]


def _chunks(items: Sequence[T], size: int = _IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load_state(session: Session, cohort_code: str, records: Sequence[Record]) -> State:
    cohort = session.exec(select(Cohort).where(Cohort.code == cohort_code)).first()
    ids = sorted({r.id_number for r in records})
    volunteers: dict[str, Volunteer] = {}
    for chunk in _chunks(ids):
        for v in session.exec(select(Volunteer).where(col(Volunteer.id_number).in_(chunk))):
            volunteers[v.id_number] = v
    terms: dict[int, tuple[ServiceTerm, Post]] = {}
    if cohort is not None:
        stmt = (
            select(ServiceTerm, Post)
            .join(Post, col(Post.id) == col(ServiceTerm.post_id))
            .where(ServiceTerm.cohort_id == cohort.id)
        )
        for term, post in session.exec(stmt):
            terms[term.volunteer_id] = (term, post)
    leagues = sorted({r.league for r in records})
    offices: dict[tuple[str, str], Organization] = {}
    units: dict[UnitKey, Organization] = {}
    units_by_id: dict[int, UnitKey] = {}
    org_stmt = select(Organization).where(
        col(Organization.kind).in_([OrgKind.COUNTY_OFFICE.value, OrgKind.SERVICE_UNIT.value]),
        col(Organization.league).in_(leagues),
    )
    for org in session.exec(org_stmt):
        if org.league is None or org.county is None:
            continue
        if org.kind == OrgKind.COUNTY_OFFICE.value:
            offices[(org.league, org.county)] = org
        else:
            key = (org.league, org.county, org.name)
            units[key] = org
            units_by_id[org.id or 0] = key
    posts: dict[PostKey, Post] = {}
    for post in session.exec(select(Post).where(col(Post.league).in_(leagues))):
        unit_key = units_by_id.get(post.unit_id)
        if unit_key is not None:
            posts[(unit_key, post.title, post.track, post.county_level)] = post
    return State(cohort.id if cohort else None, volunteers, terms, offices, units, posts)
