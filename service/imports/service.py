"""Import an intake sheet, all or nothing: read, validate every row, check scope, then write in one flush.

Flushes only; the request or CLI commits once. Any rejection raises ``ImportRejected`` before anything
is written, so the caller's rollback has nothing to undo. Idempotent: importing the same sheet twice
changes nothing the second time (key: ID number + cohort).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, SQLModel

from service.cohorts import service as cohorts
from service.cohorts.rules import RuleViolation, county_level_post_shares, parse_cohort_code
from service.errors import AppError
from service.imports.errors import ImportRejected
from service.imports.readers import UnreadableSheet, read_sheet
from service.imports.schemas import MAX_LISTED_ERRORS, CountyWarning, ImportReport, RowErrorRead
from service.imports.state import PostKey, State, UnitKey, load_state
from service.imports.validation import Record, RowError, locate_columns, validate_rows
from service.organizations.service import county_office
from service.users.scope import Scope
from storage.models import ImportRun, Organization, OrgKind, Post, Role, ServiceTerm, Volunteer
from storage.models.base import utcnow

__all__ = ["import_sheet"]

log = logging.getLogger(__name__)

_VOLUNTEER_FIELDS = (
    *("name", "sex", "birth_date", "ethnicity", "political_status", "phone", "email"),
    *("university", "degree", "major", "graduation"),
)


def import_sheet(
    session: Session,
    data: bytes,
    filename: str,
    cohort_code: str,
    *,
    scope: Scope | None = None,
    user_id: int | None = None,
    dry_run: bool = False,
    today: date | None = None,
) -> ImportReport:
    """Import (or with ``dry_run`` only check) a sheet; raise ImportRejected listing every error if any.

    ``scope`` None means the command line, which may import anything, as a region admin may.
    """
    try:
        start_year = parse_cohort_code(cohort_code)
    except RuleViolation as exc:
        raise AppError(exc.message, status=400, code="bad_cohort") from None
    report = ImportReport(
        status="checked" if dry_run else "imported",
        cohort=cohort_code,
        filename=filename,
        sha256=hashlib.sha256(data).hexdigest(),
        rows=0,
    )
    try:
        rows = read_sheet(data, filename)
    except UnreadableSheet as exc:
        raise _rejected(report, [RowError(None, None, exc.message)], status=exc.status) from None
    located = locate_columns(rows)
    if isinstance(located, RowError):
        raise _rejected(report, [located])
    header, columns = located
    data_rows = rows[header + 1 :]
    report.rows = len(data_rows)
    if not data_rows:
        raise _rejected(report, [RowError(None, None, "表格中没有志愿者数据（只有表头）")])
    records, errors = validate_rows(data_rows, columns, start_year=start_year, today=today or date.today())
    errors += _scope_errors(scope, records)
    state = load_state(session, cohort_code, records)
    errors += _existing_scope_errors(scope, records, state)
    if errors:
        raise _rejected(report, sorted(errors, key=lambda e: e.row or 0))

    plan = _plan(records, state)
    report.created, report.updated, report.unchanged = plan.created, plan.updated, plan.unchanged
    report.warnings = _warnings(records, state)
    if not dry_run:
        _write(session, cohort_code, plan, state)
        run = ImportRun(
            cohort_id=state.cohort_id or 0,
            filename=filename[:255],
            sha256=report.sha256,
            rows=report.rows,
            created=plan.created,
            updated=plan.updated,
            unchanged=plan.unchanged,
            warnings=[w.model_dump() for w in report.warnings],
            user_id=user_id,
        )
        session.add(run)
        session.flush()
        report.import_run_id = run.id
    # Counts and the file's hash only: never ID numbers or phone numbers in logs.
    log.info(
        "sheet %s cohort=%s rows=%d created=%d updated=%d unchanged=%d warnings=%d dry_run=%s sha256=%s",
        "checked" if dry_run else "imported",
        cohort_code,
        report.rows,
        plan.created,
        plan.updated,
        plan.unchanged,
        len(report.warnings),
        dry_run,
        report.sha256[:12],
    )
    return report


def _rejected(report: ImportReport, errors: Sequence[RowError], *, status: int = 422) -> ImportRejected:
    report.status = "rejected"
    report.error_count = len(errors)
    report.errors_truncated = len(errors) > MAX_LISTED_ERRORS
    report.errors = [RowErrorRead.of(e) for e in errors[:MAX_LISTED_ERRORS]]
    log.info("sheet rejected cohort=%s errors=%d sha256=%s", report.cohort, len(errors), report.sha256[:12])
    return ImportRejected(report, status=status, code="import_rejected" if status == 422 else None)


# --- scope: an office imports only rows of its own league or county ---------------------------------------


def _in_scope(scope: Scope | None, league: str, county: str) -> bool:
    if scope is None or scope.is_admin:
        return True
    if scope.role is Role.LEAGUE_OFFICE:
        return league == scope.league
    if scope.role is Role.COUNTY_OFFICE:
        return league == scope.league and county == scope.county
    return False


def _scope_name(scope: Scope) -> str:
    return f"{scope.league or ''}{scope.county or ''}" or "（无）"


def _scope_errors(scope: Scope | None, records: Iterable[Record]) -> list[RowError]:
    return [
        RowError(
            r.row,
            "服务旗县",
            f"{r.league}{r.county}不在本账号的管辖范围（{_scope_name(scope)}）内",
            str(r.serial) if r.serial is not None else None,
        )
        for r in records
        if scope is not None and not _in_scope(scope, r.league, r.county)
    ]


def _existing_scope_errors(scope: Scope | None, records: Iterable[Record], state: State) -> list[RowError]:
    """An office may not move, by re-importing, a volunteer that another office's county holds this year."""
    errors = []
    for r in records:
        volunteer = state.volunteers.get(r.id_number)
        placed = state.terms.get(volunteer.id) if volunteer is not None and volunteer.id else None
        if (
            placed is not None
            and scope is not None
            and not _in_scope(scope, placed[1].league, placed[1].county)
        ):
            errors.append(
                RowError(
                    r.row,
                    "身份证号",
                    f"该志愿者本年度已登记在{placed[1].league}{placed[1].county}，不在本账号管辖范围内，不能修改",
                    str(r.serial) if r.serial is not None else None,
                )
            )
    return errors


# --- what changes: computed without touching the loaded objects, so a dry run leaves nothing dirty ---------


@dataclass
class _Change:
    record: Record
    volunteer: Volunteer | None  # None: a new person
    volunteer_changes: dict[str, Any]
    term: ServiceTerm | None  # None: new in this cohort
    term_changes: dict[str, Any]
    post_key: PostKey


@dataclass
class _Plan:
    changes: list[_Change] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _volunteer_values(r: Record) -> dict[str, Any]:
    return {name: getattr(r, name) for name in _VOLUNTEER_FIELDS}


def _term_values(r: Record) -> dict[str, Any]:
    return {
        "project_type": r.project_type,
        "graduate_teaching_corps": r.teaching_corps,
        "report_date": r.report_date,
        "agreed_years": r.years,
        "sheet_row": r.serial,
    }


def _post_key(r: Record) -> PostKey:
    return ((r.league, r.county, r.unit), r.post, r.track, r.county_level)


def _plan(records: Sequence[Record], state: State) -> _Plan:
    plan = _Plan()
    for r in records:
        volunteer = state.volunteers.get(r.id_number)
        wanted = _volunteer_values(r)
        volunteer_changes = (
            {k: v for k, v in wanted.items() if getattr(volunteer, k) != v} if volunteer else wanted
        )
        placed = state.terms.get(volunteer.id) if volunteer is not None and volunteer.id else None
        key = _post_key(r)
        term_changes = _term_values(r)
        if placed is not None:
            term, _ = placed
            term_changes = {k: v for k, v in term_changes.items() if getattr(term, k) != v}
            post = state.posts.get(key)
            if post is None or post.id != term.post_id:
                term_changes["post_id"] = None  # resolved when writing
            if volunteer_changes or term_changes:
                plan.updated += 1
            else:
                plan.unchanged += 1
        else:
            plan.created += 1
        plan.changes.append(
            _Change(r, volunteer, volunteer_changes, placed[0] if placed else None, term_changes, key)
        )
    return plan


def _write(session: Session, cohort_code: str, plan: _Plan, state: State) -> None:
    """Create what is missing in dependency order (units → posts → people → terms), flushing once per kind."""
    cohort = cohorts.get_or_create(session, cohort_code)
    state.cohort_id = cohort.id
    now = utcnow()

    # New rows go in as ORM bulk INSERTs of plain dicts: a first import creates ~5,000 rows, and building
    # a model object for each cost more than the database did.
    new_units: dict[UnitKey, dict[str, Any]] = {}
    for change in plan.changes:
        unit_key = change.post_key[0]
        if unit_key in state.units or unit_key in new_units:
            continue
        league, county, name = unit_key
        office = state.offices.get((league, county))
        if office is None:
            office = state.offices[(league, county)] = county_office(session, league, county)
        new_units[unit_key] = {
            "kind": OrgKind.SERVICE_UNIT.value,
            "name": name,
            "league": league,
            "county": county,
            "parent_id": office.id,
            "created_at": now,
        }
    unit_ids = dict(zip(new_units, _insert(session, Organization, list(new_units.values())), strict=True))
    unit_ids |= {key: unit.id or 0 for key, unit in state.units.items()}

    new_posts: dict[PostKey, dict[str, Any]] = {}
    for change in plan.changes:
        key = change.post_key
        if key in state.posts or key in new_posts:
            continue
        (league, county, _), title, track, county_level = key
        new_posts[key] = {
            "unit_id": unit_ids[key[0]],
            "league": league,
            "county": county,
            "track": track,
            "title": title,
            "county_level": county_level,
        }
    post_ids = dict(zip(new_posts, _insert(session, Post, list(new_posts.values())), strict=True))
    post_ids |= {key: post.id or 0 for key, post in state.posts.items()}

    people = [c for c in plan.changes if c.volunteer is None]
    person_rows = [
        {"id_number": c.record.id_number, **c.volunteer_changes, "created_at": now, "updated_at": now}
        for c in people
    ]
    person_ids = dict(
        zip((c.record.id_number for c in people), _insert(session, Volunteer, person_rows), strict=True)
    )

    new_terms = []
    for change in plan.changes:
        volunteer = change.volunteer
        if volunteer is not None and change.volunteer_changes:
            for name, value in change.volunteer_changes.items():
                setattr(volunteer, name, value)
            volunteer.updated_at = now
        post_id = post_ids[change.post_key]
        if change.term is None:
            volunteer_id = volunteer.id if volunteer is not None else person_ids[change.record.id_number]
            new_terms.append(
                {
                    "volunteer_id": volunteer_id,
                    "cohort_id": cohort.id,
                    "post_id": post_id,
                    **_term_values(change.record),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        elif change.term_changes:
            for name, value in change.term_changes.items():
                setattr(change.term, name, post_id if name == "post_id" else value)
            change.term.updated_at = now
    if new_terms:
        session.execute(insert(ServiceTerm), new_terms)
    session.flush()


def _insert(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> list[int]:
    """Insert the rows in bulk; their new ids, in the order of ``rows``."""
    if not rows:
        return []
    table: Any = model
    stmt = insert(model).returning(table.id, sort_by_parameter_order=True)
    return list(session.scalars(stmt, rows))


def _warnings(records: Sequence[Record], state: State) -> list[CountyWarning]:
    """Counties of this sheet over the 10% cap once the sheet is in, counting the cohort's other placements too."""
    placements: dict[object, tuple[str, str, bool]] = {
        volunteer_id: (post.league, post.county, post.county_level)
        for volunteer_id, (_, post) in state.terms.items()
    }
    for r in records:
        volunteer = state.volunteers.get(r.id_number)
        key: object = volunteer.id if volunteer is not None else r.id_number
        placements[key] = (r.league, r.county, r.county_level)
    touched = {(r.league, r.county) for r in records}
    shares = county_level_post_shares(p for p in placements.values() if (p[0], p[1]) in touched)
    return [
        CountyWarning(
            league=s.league,
            county=s.county,
            total=s.total,
            county_level=s.county_level,
            allowed=s.allowed,
            message=s.message(),
        )
        for s in shares
        if s.over_cap
    ]
