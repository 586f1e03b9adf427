"""Bench DOCX → PDF: naive soffice-per-document against the pool, and the merged-batch path.

Run: ``.venv/bin/python -m bench.convert [--docs 400] [--naive 50] [--merge 50]``. Prints one table.

Why the merged path is only a probe (LibreOffice 7.4, measured on this notice): the PDF of K joined
documents has ONE /Resources dict shared by every page (all K QR images and all fonts on each page),
and the CJK faces are embedded as Type 1 subsets (/FontFile, eexec, built-in encoding, at most 256
glyphs per subset) shared by all K people, with ToUnicode maps covering everyone. A correct split
must prune each page's resources to what its content uses and re-subset the Type 1 programs,
ToUnicode and /Widths per person; that is not written yet. Page boundaries are not marked
either: bookmarks exported with ExportBookmarksToPDFDestinations gave no named destinations.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil
from pypdf import PdfReader

from bench.notice import notice_docx
from doc_templates.convert import ConverterPool
from doc_templates.fonts import libreoffice_env
from doc_templates.libreoffice.instance import PROFILE_PREFIX, SOFFICE


@dataclass
class Row:
    method: str
    docs: int
    seconds: float
    latencies: list[float]
    peak_rss_mb: float

    def cells(self) -> list[str]:
        lat = sorted(self.latencies) or [0.0]
        p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
        return [
            self.method,
            str(self.docs),
            f"{self.seconds:.1f}",
            f"{self.docs / self.seconds:.1f}",
            f"{statistics.median(lat) * 1000:.0f}",
            f"{p95 * 1000:.0f}",
            f"{self.peak_rss_mb:.0f}",
        ]


class RssSampler:
    """Peak summed RSS of the soffice processes this bench started (its descendants only:
    other people's test runs on the same machine also start pools)."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            for p in psutil.Process().children(recursive=True):
                try:
                    if p.name() in {"soffice.bin", "oosplash"}:
                        total += p.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total / 2**20)
            self._stop.wait(0.1)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def bench_naive(docs: list[bytes]) -> Row:
    """One ``soffice --convert-to`` process per document: what the pool replaces."""
    work = Path(tempfile.mkdtemp(prefix=f"{PROFILE_PREFIX}{os.getpid()}-naive-"))
    env = libreoffice_env()
    latencies = []
    try:
        with RssSampler() as rss:
            began = time.monotonic()
            for i, docx in enumerate(docs):
                src = work / f"n{i}.docx"
                src.write_bytes(docx)
                t = time.monotonic()
                subprocess.run(
                    [
                        SOFFICE,
                        "--headless",
                        f"-env:UserInstallation={(work / 'profile').as_uri()}",
                        *("--convert-to", "pdf", "--outdir", str(work), str(src)),
                    ],
                    env=env,
                    check=True,
                    capture_output=True,
                )
                latencies.append(time.monotonic() - t)
                assert (work / f"n{i}.pdf").stat().st_size > 0
            seconds = time.monotonic() - began
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Row("naive soffice --convert-to per doc", len(docs), seconds, latencies, rss.peak)


def bench_pool(docs: list[bytes], size: int, recycle_after: int) -> Row:
    latencies: list[float] = []
    with (
        ConverterPool(size=size, recycle_after=recycle_after, env=libreoffice_env()) as pool,
        RssSampler() as rss,
    ):

        def one(i: int) -> None:
            t = time.monotonic()
            pool.convert(docs[i], f"n{i}.docx")
            latencies.append(time.monotonic() - t)

        began = time.monotonic()
        with ThreadPoolExecutor(max_workers=size) as ex:
            list(ex.map(one, range(len(docs))))
        seconds = time.monotonic() - began
    return Row(f"pool size {size}, recycle {recycle_after}", len(docs), seconds, latencies, rss.peak)


def bench_merged_probe(docs: list[bytes], size: int, merge: int) -> Row:
    """Upper bound of the merged path: join K, convert once. The split is NOT done (see report)."""
    from bench.merge_probe import join_docx

    chunks = [docs[i : i + merge] for i in range(0, len(docs), merge)]
    latencies: list[float] = []
    with ConverterPool(size=size, env=libreoffice_env()) as pool, RssSampler() as rss:

        def one(k: int) -> None:
            t = time.monotonic()
            pdf = pool.convert(join_docx(chunks[k]), f"chunk{k}.docx")
            assert len(PdfReader(io.BytesIO(pdf)).pages) == len(chunks[k])
            latencies.append((time.monotonic() - t) / len(chunks[k]))

        began = time.monotonic()
        with ThreadPoolExecutor(max_workers=size) as ex:
            list(ex.map(one, range(len(chunks))))
        seconds = time.monotonic() - began
    return Row(
        f"PROBE pool {size}, join ×{merge} + convert, no split", len(docs), seconds, latencies, rss.peak
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=400)
    parser.add_argument("--naive", type=int, default=50)
    parser.add_argument("--merge", type=int, default=0, help="also probe join-K-then-convert (no split)")
    parser.add_argument("--skip-pool", action="store_true")
    args = parser.parse_args()

    docs = [notice_docx(i) for i in range(args.docs)]
    runs: list[Callable[[], Row]] = []
    if args.naive:
        runs.append(lambda: bench_naive(docs[: args.naive]))
    if not args.skip_pool:
        runs += [lambda: bench_pool(docs, 1, 200), lambda: bench_pool(docs, 2, 200)]
    if args.merge:
        runs.append(lambda: bench_merged_probe(docs, 2, args.merge))
    rows = []
    for run in runs:
        rows.append(run())
        print("  done:", rows[-1].method, flush=True)

    head = ["method", "docs", "s", "docs/s", "p50 ms", "p95 ms", "peak RSS MB"]
    table = [head, *[r.cells() for r in rows]]
    widths = [max(len(row[c]) for row in table) for c in range(len(head))]
    print(f"\n{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}; PROBE latency = chunk time / K")
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
