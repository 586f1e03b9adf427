"""``xibu import``: exit 0 and a Chinese summary on success, exit 2 and every error on rejection, --json report."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session
from typer.testing import CliRunner

from service.cli import app
from tests.conftest import SHEET_CSV, SHEET_XLSX
from tests.imports.sheets import column, counts, shared_rows, to_csv

runner = CliRunner()


def test_import_then_reimport_prints_counts(session: Session) -> None:
    first = runner.invoke(app, ["import", str(SHEET_CSV), "--cohort", "2020-2021"])
    again = runner.invoke(app, ["import", str(SHEET_XLSX), "--cohort", "2020-2021"])

    assert first.exit_code == 0, first.output
    assert "新增1315人" in first.stdout and "提醒：" in first.stdout
    assert again.exit_code == 0 and "未变1315人" in again.stdout and "无变化" in again.stdout
    assert counts(session)["Volunteer"] == 1315


def test_json_report_has_the_api_schema(session: Session) -> None:
    result = runner.invoke(app, ["import", str(SHEET_CSV), "--cohort", "2020-2021", "--json"])

    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["status"] == "imported" and report["created"] == 1315 and report["import_run_id"]
    assert {"league", "county", "total", "county_level", "allowed", "message"} <= set(report["warnings"][0])


def test_rejected_sheet_exits_2_lists_errors_and_writes_nothing(session: Session, tmp_path: Path) -> None:
    header, rows = shared_rows()
    rows[4][column(header, "手机号码")] = "12345"
    rows[9][column(header, "服务期限(年)")] = "5"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(to_csv(header, rows))

    plain = runner.invoke(app, ["import", str(bad), "--cohort", "2020-2021"])
    as_json = runner.invoke(app, ["import", str(bad), "--cohort", "2020-2021", "--json"])

    assert plain.exit_code == 2 and as_json.exit_code == 2
    assert "第6行（序号5）【手机号码】" in plain.stderr and "第11行（序号10）【服务期限(年)】" in plain.stderr
    report = json.loads(as_json.stdout)
    assert report["status"] == "rejected" and report["error_count"] == 2
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(6, "手机号码"), (11, "服务期限(年)")]
    assert counts(session)["Volunteer"] == 0


def test_check_only_writes_nothing(session: Session) -> None:
    result = runner.invoke(app, ["import", str(SHEET_CSV), "--cohort", "2020-2021", "--check"])

    assert result.exit_code == 0 and "检查完成" in result.stdout and "将新增1315人" in result.stdout
    assert counts(session)["Volunteer"] == 0


def test_unreadable_or_missing_file_exits_2(session: Session, tmp_path: Path) -> None:
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")

    unreadable = runner.invoke(app, ["import", str(empty), "--cohort", "2020-2021", "--json"])
    missing = runner.invoke(app, ["import", str(tmp_path / "nope.csv"), "--cohort", "2020-2021"])

    assert unreadable.exit_code == 2 and json.loads(unreadable.stdout)["errors"][0]["message"] == "文件为空"
    assert missing.exit_code == 2 and "无法读取文件" in missing.stderr
