"""Importing the shared sheet: created, then unchanged, then updated in place; all or nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from service.imports.errors import ImportRejected
from service.imports.service import import_sheet
from storage.models import Cohort, ImportRun, Organization, OrgKind, Post, ServiceTerm, Volunteer
from tests.conftest import SHEET_CSV, SHEET_XLSX
from tests.imports.sheets import column, counts, excel_like, shared_rows, to_csv, to_xlsx

COHORT = "2020-2021"


def run(session: Session, data: bytes, name: str = "sheet.csv", **kwargs):
    report = import_sheet(session, data, name, COHORT, **kwargs)
    session.commit()
    return report


@pytest.mark.parametrize("path", [SHEET_CSV, SHEET_XLSX], ids=["csv", "xlsx"])
def test_shared_sheet_creates_every_volunteer_with_term_post_and_unit(session: Session, path) -> None:
    report = run(session, path.read_bytes(), path.name)

    assert (report.status, report.rows, report.created, report.updated, report.unchanged) == (
        "imported",
        1315,
        1315,
        0,
        0,
    )
    table = counts(session)
    assert table["Volunteer"] == table["ServiceTerm"] == 1315
    first = session.exec(select(Volunteer).where(Volunteer.id_number == "150602199706117147")).one()
    assert (first.name, first.sex, first.birth_date, first.graduation) == (
        "黎强",
        "女",
        date(1997, 6, 11),
        "2020-06",
    )
    term = session.exec(select(ServiceTerm).where(ServiceTerm.volunteer_id == first.id)).one()
    post = session.get(Post, term.post_id)
    assert post is not None and (post.county, post.title, post.county_level) == (
        "新巴尔虎右旗",
        "物理教师",
        False,
    )
    unit = session.get(Organization, post.unit_id)
    assert unit is not None and unit.kind == OrgKind.SERVICE_UNIT and unit.name == "新巴中彦镇中心学校"
    office = session.get(Organization, unit.parent_id)
    assert office is not None and office.kind == OrgKind.COUNTY_OFFICE and office.county == "新巴尔虎右旗"
    assert (term.report_date, term.agreed_years, term.sheet_row, term.project_type) == (
        date(2020, 7, 31),
        3,
        1,
        "全国项目",
    )


def test_reimport_changes_nothing_and_says_so(session: Session) -> None:
    run(session, SHEET_CSV.read_bytes())
    before = counts(session)

    report = run(session, SHEET_XLSX.read_bytes(), "again.xlsx")

    assert (report.created, report.updated, report.unchanged) == (0, 0, 1315)
    assert "无变化" in report.summary()
    after = counts(session)
    assert after.pop("ImportRun") == before.pop("ImportRun") + 1
    assert after == before


def test_corrected_sheet_updates_the_one_changed_person_in_place(session: Session) -> None:
    header, rows = shared_rows()
    run(session, to_csv(header, rows))
    rows[41][column(header, "手机号码")] = "13900000000"
    rows[42][column(header, "服务单位")] = "新设的服务单位"

    report = run(session, to_csv(header, rows))

    assert (report.created, report.updated, report.unchanged) == (0, 2, 1313)
    person = session.exec(
        select(Volunteer).where(Volunteer.id_number == rows[41][column(header, "身份证号")])
    ).one()
    assert person.phone == "13900000000"
    assert counts(session)["Volunteer"] == 1315
    moved = session.exec(
        select(Volunteer).where(Volunteer.id_number == rows[42][column(header, "身份证号")])
    ).one()
    term = session.exec(select(ServiceTerm).where(ServiceTerm.volunteer_id == moved.id)).one()
    post = session.get(Post, term.post_id)
    assert post is not None and session.get(Organization, post.unit_id).name == "新设的服务单位"  # type: ignore[union-attr]


def test_gb18030_copy_imports_the_same_records(session: Session) -> None:
    header, rows = shared_rows()
    run(session, SHEET_CSV.read_bytes())

    report = run(session, to_csv(header, rows, encoding="gb18030"))

    assert (report.created, report.updated, report.unchanged) == (0, 0, 1315)


def test_messy_copy_is_cleaned_to_the_same_records(session: Session) -> None:
    header, rows = shared_rows()
    run(session, SHEET_CSV.read_bytes())
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    pads = (" ", "\u3000", "\u00a0", "\t")
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            row[j] = pads[(i + j) % 4] + value + pads[(i + j + 1) % 4]
        row[column(header, "身份证号")] = (
            row[column(header, "身份证号")].translate(full_width).replace("X", "x")
        )
        row[column(header, "手机号码")] = row[column(header, "手机号码")].translate(full_width)
        y, m, d = row[column(header, "报到日期")].strip(" \u3000\u00a0\t").split("-")
        row[column(header, "报到日期")] = f"{y}/{int(m)}/{int(d)}"
    header = [f" {h}\u3000" for h in header]

    report = run(session, to_csv(header, rows, encoding="utf-8"))

    assert (report.created, report.updated, report.unchanged) == (0, 0, 1315)


def test_xlsx_with_number_and_date_cells_imports_the_same_records(session: Session) -> None:
    header, rows = shared_rows()
    run(session, SHEET_CSV.read_bytes())

    report = run(session, to_xlsx(header, rows, excel_like), "typed.xlsx")

    assert (report.created, report.updated, report.unchanged) == (0, 0, 1315)


def test_columns_are_found_by_name_in_any_order_and_extra_columns_are_ignored(session: Session) -> None:
    header, rows = shared_rows()
    order = list(reversed(range(len(header))))
    shuffled = [header[i] for i in order] + ["备注"]
    data = [[row[i] for i in order] + ["随便写点什么"] for row in rows[:50]]

    report = run(session, to_csv(shuffled, data))

    assert report.created == 50


def test_import_run_records_counts_hash_and_cap_warnings(session: Session) -> None:
    report = run(session, SHEET_CSV.read_bytes(), "volunteers-2020.csv")

    stored = session.exec(select(ImportRun)).one()
    assert stored.id == report.import_run_id
    assert (stored.filename, stored.rows, stored.created, stored.sha256) == (
        "volunteers-2020.csv",
        1315,
        1315,
        report.sha256,
    )
    # The shared sheet has about a quarter of its posts in county-level organs: many counties are over.
    assert report.warnings and len(stored.warnings) == len(report.warnings)
    assert all(w.county_level > w.allowed for w in report.warnings)
    assert "超过10%上限" in stored.warnings[0]["message"]


def test_county_within_the_cap_gets_no_warning(session: Session) -> None:
    header, rows = shared_rows()
    level = column(header, "县级及以上机关")
    county = [r for r in rows if r[column(header, "服务旗县")] == "红山区"]
    for r in county:
        r[level] = "否"
    county[0][level] = "是"  # 1 of ≥ 10 placements is within 10%
    assert len(county) >= 10

    report = run(session, to_csv(header, county))

    assert report.warnings == []


def test_dry_run_reports_counts_and_writes_nothing(session: Session) -> None:
    before = counts(session)

    report = run(session, SHEET_CSV.read_bytes(), dry_run=True)

    assert (report.status, report.created, report.import_run_id) == ("checked", 1315, None)
    assert counts(session) == before
    assert session.exec(select(Cohort)).first() is None


def test_unknown_cohort_code_is_refused(session: Session) -> None:
    from service.errors import AppError

    with pytest.raises(AppError) as caught:
        import_sheet(session, SHEET_CSV.read_bytes(), "a.csv", "2020-2022")
    assert caught.value.status == 400 and "年度" in caught.value.message


def test_rejected_report_lists_at_most_the_cap_but_counts_all(session: Session) -> None:
    header, rows = shared_rows()
    for row in rows:
        row[column(header, "性别")] = "未知"
        row[column(header, "手机号码")] = "123"

    with pytest.raises(ImportRejected) as caught:
        import_sheet(session, to_csv(header, rows), "bad.csv", COHORT)

    report = caught.value.report
    assert report.error_count == 2630 and len(report.errors) == 1000 and report.errors_truncated
