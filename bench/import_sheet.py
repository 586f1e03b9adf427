"""Time and peak memory of importing the shared 1,315-row sheet: cold, re-import, then the XLSX.

Run: ``.venv/bin/python bench/import_sheet.py``. Uses a fresh temporary SQLite database, and also
PostgreSQL when XIBU_BENCH_DATABASE_URL points at an empty database (its tables are dropped first).
Each step runs in its own process, so "peak RSS" is that step's whole process, imports included.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHEETS = ROOT.parent / "shared" / "data"
STEPS = (
    ("csv, cold", "volunteers-2020.csv"),
    ("csv, re-import", "volunteers-2020.csv"),
    ("xlsx, re-import", "volunteers-2020.xlsx"),
)


def _step(url: str, sheet: str) -> None:
    """Child process: one import, committed; prints seconds and counts as JSON."""
    sys.path.insert(0, str(ROOT))
    from service.imports.service import import_sheet
    from storage.db import make_engine, session_scope

    data = (SHEETS / sheet).read_bytes()
    engine = make_engine(url)
    start = time.perf_counter()
    with session_scope(engine) as session:
        report = import_sheet(session, data, sheet, "2020-2021")
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mb": peak_kb / 1024,
                "counts": [report.created, report.updated, report.unchanged],
            }
        )
    )


def _run(url: str, label: str) -> list[tuple[str, str, float, float, float, str]]:
    sys.path.insert(0, str(ROOT))
    from bench._common import fresh_database

    fresh_database(url)
    rows = []
    for step, sheet in STEPS:
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, __file__, "--step", url, sheet],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "XIBU_DATABASE_URL": url},
        )
        wall = time.perf_counter() - started
        result = json.loads(out.stdout.strip().splitlines()[-1])
        counts = "/".join(str(c) for c in result["counts"])
        rows.append((label, step, result["seconds"], wall, result["peak_mb"], counts))
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="xibu-bench-") as tmp:
        results = _run(f"sqlite:///{Path(tmp) / 'bench.db'}", "SQLite")
        pg = os.environ.get("XIBU_BENCH_DATABASE_URL")
        if pg:
            results += _run(pg, "PostgreSQL")
    print(
        f"{'database':<11} {'step':<16} {'import s':>9} {'process s':>10} {'peak RSS MB':>12}  created/updated/unchanged"
    )
    for label, step, seconds, wall, peak, counts in results:
        print(f"{label:<11} {step:<16} {seconds:>9.2f} {wall:>10.2f} {peak:>12.0f}  {counts}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--step":
        _step(sys.argv[2], sys.argv[3])
    else:
        main()
