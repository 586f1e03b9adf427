"""Upload validation against raw pyHanko over the same three-signature agreements.

N agreements (default 10) are issued through the registry (real LibreOffice, not timed) and signed
by the county office, the unit and the volunteer with their certificates from our PKI, then
finished to B-LTA, the registry recording what a completed signing records (the tests' own
helper, ``tests.verification.corpus.sign_every_party``). Then, per agreement, alternating, R rounds:

* raw pyHanko: parse the file, one ``ValidationContext`` with our root and CRLs, and
  ``validate_pdf_signature`` on each of the three signatures (difference analysis included), as
  the issue words it; also the same plus ``validate_pdf_timestamp`` on the document timestamp;
* ours: ``service.verification.upload.verify_upload`` — registry look-up by the rendered
  revision's hash, expected layout from the registry, every structural check, each signature and
  the document timestamp validated once (signer certificates at their timestamp's time), and the
  registry checks; everything but the audit event the HTTP endpoint adds.

Wall time and CPU time per agreement (p50 over all runs); the machine may be shared, so CPU time
is the figure to compare, and the ratio of the two sides of one run, not runs. Target ≤ 1.5×.
Run: ``.venv/bin/python -m bench.verify_upload [--agreements N] [--rounds R]`` (also called by
``bench/verify.py`` for the issue's table).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="xibu-bench-verify-"))
os.environ.update(
    XIBU_DATABASE_URL=os.environ.get("XIBU_BENCH_UPLOAD_DATABASE_URL") or f"sqlite:///{_TMP / 'bench.db'}",
    XIBU_DATA_DIR=str(_TMP / "data"),
    XIBU_ENVIRONMENT="test",
    XIBU_SECRET_KEY="bench-secret-key-not-for-production-0123456789",
    XIBU_MASTER_KEY="bench-master-key-not-for-production-0123456789",
    XIBU_CACHE_DIR=os.environ.get("XIBU_CACHE_DIR", str(Path(tempfile.gettempdir()) / "xibu-test-cache")),
    XIBU_TSA_URL="",
)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from signing import TrustSpec, validation_context  # noqa: E402


def raw_pyhanko(pdf: bytes, trust: TrustSpec, *, doc_timestamps: bool = False) -> bool:
    """What a developer would write with pyHanko alone: every signature's bottom line."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    vc = validation_context(trust)
    ok = True
    for emb in reader.embedded_signatures:
        if emb.sig_object_type == "/DocTimeStamp":
            if doc_timestamps:
                ok = validate_pdf_timestamp(emb, validation_context=vc).valid and ok
            continue
        ok = validate_pdf_signature(emb, vc, vc).bottom_line and ok
    return ok


def _agreements(n: int) -> list[bytes]:
    from bench._common import invented_cohort
    from doc_templates.convert import ConverterPool
    from doc_templates.fonts import libreoffice_env
    from service.documents import service as registry
    from service.documents.converter import PoolConverter
    from storage.archive import Archive
    from storage.db import get_engine
    from storage.models import ServiceTerm
    from tests.verification.corpus import sign_every_party

    invented_cohort(os.environ["XIBU_DATABASE_URL"], n, seed=7)
    archive = Archive.at(Path(os.environ["XIBU_DATA_DIR"]))
    out: list[bytes] = []
    with ConverterPool(size=1, env=libreoffice_env()) as pool, Session(get_engine()) as session:
        converter = PoolConverter(pool)
        for term in session.exec(select(ServiceTerm)).all()[:n]:
            assert term.id is not None
            doc = registry.issue_one(session, archive, converter, "agreement", term.id, year=1)
            doc = sign_every_party(session, archive, doc)
            session.commit()
            out.append(archive.get(doc.current_sha256))
    return out


def _timed(fn: object, *args: object) -> tuple[float, float, object]:
    w, c = time.perf_counter(), time.process_time()
    result = fn(*args)  # type: ignore[operator]
    return (time.perf_counter() - w) * 1000, (time.process_time() - c) * 1000, result


def measure(n: int, rounds: int, *, profile: bool = False) -> list[str]:
    """The table lines (and, with ``profile``, a cProfile of our side printed first)."""
    from service.pki.service import trust
    from service.verification.upload import verify_upload
    from signing.verify import Verdict
    from storage.archive import Archive
    from storage.db import get_engine

    pdfs = _agreements(n)
    archive = Archive.at(Path(os.environ["XIBU_DATA_DIR"]))
    spec = trust()
    times: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in ("raw", "raw+ts", "ours")}
    with Session(get_engine()) as session:

        def ours(pdf: bytes) -> bool:
            return verify_upload(session, archive, pdf).verdict is Verdict.VALID

        for pdf in pdfs[:2]:  # warm-up: imports, caches
            assert raw_pyhanko(pdf, spec) and ours(pdf)
        for _ in range(rounds):
            for pdf in pdfs:
                for key, fn in (
                    ("raw", lambda p: raw_pyhanko(p, spec)),
                    ("raw+ts", lambda p: raw_pyhanko(p, spec, doc_timestamps=True)),
                    ("ours", ours),
                ):
                    wall, cpu, ok = _timed(fn, pdf)
                    assert ok, f"{key} did not accept a genuine agreement"
                    times[key][0].append(wall)
                    times[key][1].append(cpu)

        if profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            for pdf in pdfs:
                ours(pdf)
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(30)

    def p50(values: list[float]) -> float:
        return statistics.median(values)

    size = statistics.mean(len(p) for p in pdfs) / 1024
    lines = [
        f"upload validation: {n} three-signature agreements (B-LTA, {size:.0f} KB each), {rounds} rounds, "
        f"p50 per agreement, {os.cpu_count()} cores",
        f"{'what':<58} {'wall ms':>8} {'CPU ms':>8}",
    ]
    labels = {
        "raw": "raw pyHanko validate_pdf_signature × 3",
        "raw+ts": "raw pyHanko, + validate_pdf_timestamp (document timestamp)",
        "ours": "ours: verify_upload (all 17 checks, registry, archive)",
    }
    for key, label in labels.items():
        walls, cpus = times[key]
        lines.append(f"{label:<58} {p50(walls):>8.1f} {p50(cpus):>8.1f}")
    ratio_wall = p50(times["ours"][0]) / p50(times["raw"][0])
    ratio_cpu = p50(times["ours"][1]) / p50(times["raw"][1])
    verdict = "met" if ratio_cpu <= 1.5 else "NOT met"
    lines.append(
        f"ours / raw pyHanko: {ratio_cpu:.2f}× CPU, {ratio_wall:.2f}× wall (target ≤ 1.5×): {verdict}"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agreements", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of our side")
    args = parser.parse_args()
    for line in measure(args.agreements, args.rounds, profile=args.profile):
        print(line, flush=True)


if __name__ == "__main__":
    main()
