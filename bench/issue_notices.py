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
import json
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
    """Samples the RSS of this process and all its descendants (LibreOffice included).

    Besides the peak of the total it keeps the peak of each part — LibreOffice (``soffice*``)
    and the Python processes — so a report can say which one dominates. RSS counts shared pages
    once per process: a worker that forks to run ``pdftotext`` briefly shows a second process as
    big as itself, which costs no memory. So the peak of the summed PSS (shared pages split
    between the processes that map them: the memory really in use) is kept as well.
    """

    def __init__(self) -> None:
        self.peak = 0
        self.peak_office = 0
        self.peak_python = 0
        self.peak_pss = 0
        self.per_process: dict[int, tuple[str, int]] = {}  # pid -> (kind, peak RSS)
        self.cpu_seconds = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            office = python = pss = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    pss += proc.memory_full_info().pss
                with contextlib.suppress(psutil.Error):
                    rss = proc.memory_info().rss
                    lo = proc.name().startswith(("soffice", "oosplash"))
                    if lo:
                        office += rss
                    else:
                        python += rss
                    kind = "LibreOffice" if lo else ("bench (parent)" if proc.pid == me.pid else proc.name())
                    if "spawn_main" in " ".join(proc.cmdline()[-3:]) or "multiprocessing" in " ".join(
                        proc.cmdline()
                    ):
                        kind = "worker"
                    known, old = self.per_process.get(proc.pid, (kind, 0))
                    self.per_process[proc.pid] = (known if known != "python" else kind, max(old, rss))
            self.peak = max(self.peak, office + python)
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_office = max(self.peak_office, office)
            self.peak_python = max(self.peak_python, python)
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


def _lane(batch_id: int, chunk: int, seal: bool) -> None:
    """One worker process with its own LibreOffice instance, as ``xibu issue notices`` runs them."""
    os.environ["XIBU_CONVERTERS"] = "1"
    sys.path.insert(0, str(ROOT))
    from service.config import get_settings
    from service.documents import batches
    from service.documents.converter import close_shared_converter, shared_converter
    from service.documents.sealing import region_sealer
    from storage.archive import Archive
    from storage.db import session_scope

    converter = shared_converter()
    sealer = None
    if seal:
        with session_scope() as session:
            sealer = region_sealer(session)
    try:
        batches.run_batch(
            batch_id, converter, Archive.at(get_settings().data_dir), chunk=chunk, sealer=sealer
        )
    finally:
        close_shared_converter()


def _issue(seal: bool, processes: int, chunk: int) -> tuple[int, int, float, list[float], PeakRss]:
    import multiprocessing

    from sqlmodel import select

    from service.documents import batches
    from service.documents.batches import LEASE
    from storage.db import session_scope
    from storage.models import BatchItem

    with session_scope() as session:
        batch = batches.start_batch(session, "2020-2021")
        batch_id = batch.id
    assert batch_id is not None
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_lane, args=(batch_id, chunk, seal)) for _ in range(processes)]
    with PeakRss() as rss:
        started = time.perf_counter()
        cpu_before = _children_cpu()
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join()
        seconds = time.perf_counter() - started
        rss.cpu_seconds = _children_cpu() - cpu_before
    with session_scope() as session:
        result = batches.progress(session, batch_id)
        items = session.exec(select(BatchItem).where(BatchItem.batch_id == batch_id)).all()
        latency = [
            (_aware(i.finished_at) - (_aware(i.claimed_until) - LEASE)).total_seconds()
            for i in items
            if i.finished_at and i.claimed_until
        ]
    return result.done, result.failed, seconds, latency, rss


def _children_cpu() -> float:
    """CPU seconds of every finished (waited-for) descendant: the workers, their LibreOffice
    instances and pdftotext runs. Unlike wall time it does not depend on what else the machine
    is doing."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _prepare_signing() -> None:
    """``xibu init``'s part for signing: the PKI and the stamp faces on disk."""
    sys.path.insert(0, str(ROOT))
    from service.pki.service import ensure_pki, stamp_fonts

    ensure_pki()
    stamp_fonts()


def _aware(moment: object) -> object:
    from datetime import UTC, datetime

    assert isinstance(moment, datetime)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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


def _one(mode: str, limit: int | None, processes: int, chunk: int, naive_docs: int) -> None:
    """Child process: one fresh installation, one mode; prints its figures as JSON."""
    with tempfile.TemporaryDirectory(prefix="xibu-bench-") as name:
        tmp = Path(name)
        _setup(tmp, limit)
        if mode == "sealed":
            # In a child: this process only coordinates and should not carry pyHanko and the stamp
            # faces in its RSS (the workers load what they need; ``xibu issue notices`` has no such
            # extra process).
            import multiprocessing

            prep = multiprocessing.get_context("spawn").Process(target=_prepare_signing)
            prep.start()
            prep.join()
            assert prep.exitcode == 0, "PKI / stamp font preparation failed"
        done, failed, seconds, latency, rss = _issue(mode == "sealed", processes, chunk)
        naive = _naive(naive_docs, tmp) if naive_docs else None
    print(
        json.dumps(
            {
                "done": done,
                "failed": failed,
                "seconds": seconds,
                "latency": latency,
                "peak": rss.peak,
                "peak_pss": rss.peak_pss,
                "cpu": rss.cpu_seconds,
                "peak_office": rss.peak_office,
                "peak_python": rss.peak_python,
                "largest": sorted(rss.per_process.values(), key=lambda kv: -kv[1])[:6],
                "naive": naive,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None, help="only the first N volunteers")
    parser.add_argument("--naive", type=int, default=50, help="documents for the naive baseline (0: skip)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--chunk", type=int, default=50)
    parser.add_argument("--modes", default="unsealed,sealed", help="unsealed (issue 3), sealed (issue 4)")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        _one(args.one, args.limit, args.processes, args.chunk, args.naive)
        return
    rows = []
    naive = None
    for i, mode in enumerate(args.modes.split(",")):
        cmd = [
            sys.executable,
            __file__,
            "--one",
            mode,
            "--processes",
            str(args.processes),
            "--chunk",
            str(args.chunk),
        ]
        cmd += ["--naive", str(args.naive if i == 0 else 0)] + (
            ["--limit", str(args.limit)] if args.limit else []
        )
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        naive = naive or result["naive"]
        rows.append((mode, result))
    print(f"notices of {SHEET.name}, {args.processes} processes, chunks of {args.chunk}")
    print(
        f"{'mode':<10} {'issued':>7} {'failed':>7} {'wall s':>8} {'docs/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'peak RSS MB':>12}"
        f" {'LibreOffice':>12} {'Python':>8} {'peak PSS MB':>12} {'CPU ms/doc':>11}"
    )
    for mode, r in rows:
        lat = r["latency"]
        q = statistics.quantiles(lat, n=20) if len(lat) > 1 else [0.0] * 19
        print(
            f"{mode:<10} {r['done']:>7} {r['failed']:>7} {r['seconds']:>8.1f} {r['done'] / r['seconds']:>8.1f} "
            f"{statistics.median(lat) * 1000:>8.0f} {q[18] * 1000:>8.0f} {r['peak'] / 1048576:>12.0f}"
            f" {r['peak_office'] / 1048576:>12.0f} {r['peak_python'] / 1048576:>8.0f}"
            f" {r['peak_pss'] / 1048576:>12.0f}"
            f" {r['cpu'] * 1000 / max(r['done'], 1):>11.1f}"
        )
    for mode, r in rows:
        largest = ", ".join(f"{kind} {peak / 1048576:.0f}" for kind, peak in r.get("largest", []))
        print(f"{mode}: largest single processes (peak RSS MB): {largest}")
    if naive:
        best = max(r["done"] / r["seconds"] for _, r in rows)
        print(
            f"naive baseline, one soffice --convert-to per document ({args.naive} docs): {naive:.2f} docs/s"
        )
        print(f"ratio, fastest mode / naive: {best / naive:.1f}x")
    print("p50/p95: per-document latency from claim to issued (a document waits for its whole chunk).")
    print("peak RSS: all processes together; LibreOffice and Python: each part's own peak (not additive).")
    print("peak PSS: all processes together, shared pages counted once (a fork before exec adds ~0).")
    print(
        "CPU ms/doc: user+sys of the workers, LibreOffice and pdftotext per issued document (shared-machine proof)."
    )


if __name__ == "__main__":
    main()
