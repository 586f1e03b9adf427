"""Issue the 1,315 confirmation notices of the shared sheet and measure it, against the naive baseline.

Run: ``.venv/bin/python bench/issue_notices.py [--limit N] [--naive 50]``. A fresh SQLite database and
data folder in a temporary directory; the batch runs in this process as ``xibu issue notices`` runs
it (pool of one LibreOffice instance per core). Prints docs/s, per-document latency (chunk wall time
divided by its documents), and peak RSS of this process plus every LibreOffice process it started,
sampled every 100 ms. The naive baseline converts 50 rendered notices with one
``soffice --convert-to pdf`` process per document.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
SHEET = ROOT.parent / "shared" / "data" / "volunteers-2020.csv"


class PeakRss:
    """Samples the RSS of this process and all its descendants (LibreOffice included)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            self.peak = max(self.peak, total)
            time.sleep(0.1)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _setup(tmp: Path, limit: int | None) -> None:
    os.environ["XIBU_DATABASE_URL"] = f"sqlite:///{tmp / 'bench.db'}"
    os.environ["XIBU_DATA_DIR"] = str(tmp / "data")
    sys.path.insert(0, str(ROOT))
    from service.imports.service import import_sheet
    from storage import migrate
    from storage.db import session_scope

    migrate.upgrade(os.environ["XIBU_DATABASE_URL"])
    data = SHEET.read_bytes()
    if limit:
        lines = data.splitlines(keepends=True)
        data = b"".join(lines[: limit + 1])
    with session_scope() as session:
        import_sheet(session, data, SHEET.name, "2020-2021")


def _issue() -> tuple[int, int, float, list[float], int]:
    from service.config import get_settings
    from service.documents import batches
    from service.documents.converter import close_shared_converter, shared_converter
    from storage.archive import Archive
    from storage.db import session_scope

    with session_scope() as session:
        batch = batches.start_batch(session, "2020-2021")
        batch_id = batch.id
    assert batch_id is not None
    per_doc: list[float] = []
    last = [time.perf_counter(), 0]

    def tick(p: batches.Progress) -> None:
        now = time.perf_counter()
        finished = p.done + p.failed
        if finished > last[1]:
            per_doc.extend([(now - last[0]) / (finished - last[1])] * (finished - last[1]))
        last[0], last[1] = now, finished

    converter = shared_converter()  # started before the clock: a worker starts its pool once
    with PeakRss() as rss:
        started = time.perf_counter()
        last[0] = started
        result = batches.run_batch(batch_id, converter, Archive.at(get_settings().data_dir), on_progress=tick)
        seconds = time.perf_counter() - started
    close_shared_converter()
    return result.done, result.failed, seconds, per_doc, rss.peak


def _naive(count: int, tmp: Path) -> float:
    """One ``soffice --convert-to pdf`` process per document, as a script would do it."""
    from sqlmodel import select

    from doc_templates.context import build_context
    from doc_templates.fonts import libreoffice_env
    from doc_templates.render import render_docx
    from service.documents.data import load_terms, notice_data
    from storage.db import session_scope
    from storage.models import ServiceTerm

    folder = tmp / "naive"
    folder.mkdir()
    with session_scope() as session:
        ids = list(session.exec(select(ServiceTerm.id).limit(count)).all())
        records = load_terms(session, [i for i in ids if i is not None])
    files = []
    for i, rec in enumerate(records.values()):
        data = notice_data(
            rec, code="7KQ3-M9XD-2HFA-0RTV", issue_date=rec.cohort.signing_deadline, public_url="http://x"
        )
        path = folder / f"{i}.docx"
        path.write_bytes(render_docx("notice", build_context(data)))
        files.append(path)
    profile = (tmp / "naive-profile").as_uri()
    env = libreoffice_env()
    started = time.perf_counter()
    for path in files:
        subprocess.run(
            ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(path)],
            check=True, capture_output=True, env=env,
        )  # fmt: skip
    seconds = time.perf_counter() - started
    missing = [p for p in files if not p.with_suffix(".pdf").exists()]
    assert not missing, f"naive conversion lost {len(missing)} files"
    return len(files) / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None, help="only the first N volunteers")
    parser.add_argument("--naive", type=int, default=50, help="documents for the naive baseline (0: skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="xibu-bench-") as name:
        tmp = Path(name)
        _setup(tmp, args.limit)
        done, failed, seconds, per_doc, peak = _issue()
        naive = _naive(args.naive, tmp) if args.naive else float("nan")
    rate = done / seconds
    q = statistics.quantiles(per_doc, n=20) if len(per_doc) > 1 else [0.0] * 19
    print(f"{'measure':<44} {'value':>10}")
    print(f"{'notices issued / failed':<44} {f'{done}/{failed}':>10}")
    print(f"{'wall time, s':<44} {seconds:>10.1f}")
    print(f"{'end to end, docs/s':<44} {rate:>10.1f}")
    print(f"{'per document p50, ms':<44} {statistics.median(per_doc) * 1000:>10.0f}")
    print(f"{'per document p95, ms':<44} {q[18] * 1000:>10.0f}")
    print(f"{'peak RSS, all processes, MB':<44} {peak / 1048576:>10.0f}")
    print(f"{f'naive: soffice per document ({args.naive} docs), docs/s':<44} {naive:>10.2f}")
    print(f"{'ratio (batch / naive)':<44} {rate / naive:>10.1f}")


if __name__ == "__main__":
    main()
