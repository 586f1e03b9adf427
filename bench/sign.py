"""Signing as the service does it, against raw pyHanko on the same PDFs with the same keys.

N agreements (default 100) are created through ``service.agreements.service.create_agreement``
(render + LibreOffice, not timed) and signed by all three parties through the service's own
signing path, ``service.agreements.signer._sign``: row lock → archive read (hash-checked) →
field placement from the rendered PDF's anchors → ``signer_for`` → ``sign_pdf`` with the visible
CJK stamp → ``finish_lta`` after the last party → archive put → revision rows, optimistic
version update, audit events → commit. The one-time code / login check in front of it (an HMAC)
is skipped. Each signature is timed from lock to commit.

Raw pyHanko: ``pyhanko.sign.signers.sign_pdf`` with a stock ``SimpleSigner`` built from the same
key and certificate per signature, the same field plan and PAdES settings, the same built-in
TSA, no stamp and no B-LTA step, over the same rendered PDFs.

Then the visible stamp alone (our ``sign_pdf`` with and without it, same input) and a cProfile
of the service path. Run: ``.venv/bin/python -m bench.sign [N]``.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="xibu-bench-sign-"))
os.environ.update(
    XIBU_DATABASE_URL=f"sqlite:///{_TMP / 'bench.db'}",
    XIBU_DATA_DIR=str(_TMP / "data"),
    XIBU_ENVIRONMENT="test",
    XIBU_SECRET_KEY="bench-secret-key-not-for-production-0123456789",
    XIBU_MASTER_KEY="bench-master-key-not-for-production-0123456789",
    XIBU_CACHE_DIR=os.environ.get("XIBU_CACHE_DIR", str(Path(tempfile.gettempdir()) / "xibu-test-cache")),
    XIBU_TSA_URL="",
)

from asn1crypto import keys as asn1_keys  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.sign import fields as ph_fields  # noqa: E402
from pyhanko.sign import signers  # noqa: E402
from pyhanko.sign.fields import MDPPerm  # noqa: E402
from pyhanko_certvalidator.registry import SimpleCertificateStore  # noqa: E402

import signing as S  # noqa: E402
from signing.sign import _asn1_cert, pades_metadata  # noqa: E402

COHORT = "2020-2021"


def pct(xs: list[float], p: float) -> float:
    """Nearest-rank percentile, in ms."""
    return sorted(xs)[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))] * 1000


def setup(n: int) -> tuple[list[int], object]:
    """Database, PKI, fonts, n volunteers and their agreements (untimed)."""
    from sqlmodel import select

    from doc_templates.convert import ConverterPool
    from doc_templates.fonts import libreoffice_env
    from service.agreements.service import create_agreement
    from service.config import get_settings
    from service.demo.generate import generate_rows, to_csv
    from service.documents.converter import PoolConverter
    from service.imports.service import import_sheet
    from service.pki.service import ensure_pki, stamp_fonts
    from storage import migrate
    from storage.archive import Archive
    from storage.db import session_scope
    from storage.models import ServiceTerm

    migrate.upgrade(get_settings().database_url)
    ensure_pki()
    stamp_fonts()
    archive = Archive.at(get_settings().data_dir)
    with session_scope() as session:
        import_sheet(session, to_csv(generate_rows(n, seed=7, rare_every=0)), "bench.csv", COHORT)
    pool = ConverterPool(size=2, env=libreoffice_env())
    pool.start()
    ids: list[int] = []
    try:
        with session_scope() as session:
            terms = [t.id for t in session.exec(select(ServiceTerm)).all()]
        for term_id in terms:
            with session_scope() as session:
                created = create_agreement(
                    session,
                    archive,
                    PoolConverter(pool),
                    term_id,
                    expires_on=date.today() + timedelta(days=30),
                )  # type: ignore[arg-type]
                assert created.document.id is not None
                ids.append(created.document.id)
    finally:
        pool.close()
    return ids, archive


def sign_next(archive: object, document_id: int) -> None:
    """One party's signature as a request runs it: one transaction, committed."""
    from service.agreements.service import lock_document, requests_of
    from service.agreements.signer import _sign
    from service.audit.service import Actor
    from storage.db import session_scope
    from storage.models import RequestStatus

    with session_scope() as session:
        doc = lock_document(session, document_id)
        requests = requests_of(session, document_id)
        req = next(r for r in requests if r.status == RequestStatus.OPEN.value)
        _sign(session, archive, doc, requests, req, Actor("bench"))  # type: ignore[arg-type]


def service_run(archive: object, ids: list[int]) -> dict[int, list[float]]:
    by_position: dict[int, list[float]] = {0: [], 1: [], 2: []}
    for doc_id in ids:
        for position in range(3):
            t = time.perf_counter()
            sign_next(archive, doc_id)
            by_position[position].append(time.perf_counter() - t)
    return by_position


def raw_inputs(archive: object, ids: list[int]) -> list[tuple[bytes, list[S.FieldSpec], list[S.SignerSpec]]]:
    """Rendered PDF, fields in signing order and the parties' signer specs of each document (untimed)."""
    from doc_templates.kinds import get_kind
    from service.agreements.service import requests_of
    from service.agreements.signer import _signer_of
    from service.pki import service as pki
    from service.pki.fields import field_name, fields_for
    from storage.db import session_scope
    from storage.models import Document

    out = []
    with session_scope() as session:
        for doc_id in ids:
            doc = session.get(Document, doc_id)
            assert doc is not None
            pdf = archive.get(doc.rendered_sha256)  # type: ignore[attr-defined]
            fields = {f.name: f for f in fields_for(get_kind("agreement"), pdf)}
            reqs = requests_of(session, doc_id)
            specs = []
            for r in reqs:
                org, vol = _signer_of(session, r)
                specs.append(pki.signer_for(session, organization=org, volunteer=vol)[1])
            out.append((pdf, [fields[field_name(r.party)] for r in reqs], specs))
    return out


def raw_sign(pdf: bytes, i: int, fields: list[S.FieldSpec], spec: S.SignerSpec, tsa: S.TimeStamper) -> bytes:
    der = spec.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = signers.SimpleSigner(
        signing_cert=_asn1_cert(spec.cert),
        signing_key=asn1_keys.PrivateKeyInfo.load(der),
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(c) for c in spec.chain]),
    )
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    if i == 0:
        for f in S.field_plan(fields):
            ph_fields.append_signature_field(w, f)
    perm = MDPPerm.NO_CHANGES if i == len(fields) - 1 else MDPPerm.FILL_FORMS
    out = io.BytesIO()
    signers.sign_pdf(
        w,
        pades_metadata(fields[i].name, certify=i == 0, permission=perm),
        signer,
        timestamper=tsa,
        output=out,
    )
    return out.getvalue()


def raw_run(
    inputs: list[tuple[bytes, list[S.FieldSpec], list[S.SignerSpec]]], tsa: S.TimeStamper
) -> dict[int, list[float]]:
    by_position: dict[int, list[float]] = {0: [], 1: [], 2: []}
    for pdf, fields, specs in inputs:
        for i in range(3):
            t = time.perf_counter()
            pdf = raw_sign(pdf, i, fields, specs[i], tsa)
            by_position[i].append(time.perf_counter() - t)
    return by_position


def stamp_cost(
    inputs: list[tuple[bytes, list[S.FieldSpec], list[S.SignerSpec]]], tsa: S.TimeStamper
) -> tuple[float, float]:
    """p50 of our sign_pdf (first party) without and with the visible CJK stamp, same inputs."""
    from service.pki.service import stamp_fonts

    fonts = stamp_fonts()
    plain, stamped = [], []
    for pdf, fields, specs in inputs:
        for label, bucket in (("plain", plain), ("stamped", stamped)):
            stamp = (
                S.StampSpec("甲方（服务县项目办）", "新巴尔虎右旗西部计划项目办")
                if label == "stamped"
                else None
            )
            t = time.perf_counter()
            S.sign_pdf(pdf, specs[0], fields[0], timestamper=tsa, certify=True, later_fields=fields[1:],
                       stamp=stamp, fonts=fonts if stamp else None)  # fmt: skip
            bucket.append(time.perf_counter() - t)
    return pct(plain, 50), pct(stamped, 50)


def profile(archive: object, ids: list[int]) -> str:
    prof = cProfile.Profile()
    prof.enable()
    for doc_id in ids:
        for _ in range(3):
            sign_next(archive, doc_id)
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).sort_stats("cumulative")
    stats.print_stats(PROFILE_FOCUS, 30)  # the service's own steps; asyncio and asn1crypto frames hide them
    return buf.getvalue()


# One regex over "file:line(function)": the steps of agreements.signer._sign and what they call.
PROFILE_FOCUS = (
    r"signer.py.*\(_sign\)|fields.py.*\(fields_for\)|anchors.py.*\(find_anchors\)|subprocess.py.*\(run\)"
    r"|archive.py.*\((get|put)\)|service.py.*\((signer_for|trust|current_crls|record)\)"
    r"|signing/sign.py.*\((sign_pdf|finish_lta)\)|stamps.py.*\(style\)|opentype.py.*\(prepare_write\)"
    r"|validation/dss.py.*\(collect_validation_info\)|session.py.*\((commit|flush)\)|timestamps.py.*request_tsa_response"
    r"|pdf_signer.py.*\(sign_pdf\)|keys.py.*\(load\)|incremental_writer.py.*\(__init__\)|\{built-in method posix.fsync\}"
)


def main(n: int = 100) -> None:
    from service.pki.service import timestamper

    warm, prof_n = 3, 10
    ids, archive = setup(n + warm + prof_n)
    warm_ids, run_ids, prof_ids = ids[:warm], ids[warm : warm + n], ids[warm + n :]
    inputs = raw_inputs(archive, run_ids)  # also issues every party's certificate, outside the timing
    from service.pki import fields as pki_fields

    pki_fields._cache.clear()  # raw_inputs looked the fields up; the service must find them itself
    service_run(archive, warm_ids)  # imports, font parsing, first-call caches
    t0 = time.perf_counter()
    svc = service_run(archive, run_ids)
    svc_wall = time.perf_counter() - t0
    tsa = timestamper()
    raw_run(inputs[:warm], tsa)
    t0 = time.perf_counter()
    raw = raw_run(inputs, tsa)
    raw_wall = time.perf_counter() - t0
    plain50, stamped50 = stamp_cost(inputs[:30], tsa)
    prof_text = profile(archive, prof_ids)

    all_svc = [x for xs in svc.values() for x in xs]
    all_raw = [x for xs in raw.values() for x in xs]
    print(f"\n{n} agreements x 3 signatures, ECDSA P-256, PAdES B-T, built-in TSA; SQLite; {_TMP}\n")
    print(f"| {'path':<40} | {'p50 ms':>7} | {'p95 ms':>7} | {'mean ms':>7} | {'sig/s':>6} |")
    print(f"|{'-' * 42}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 8}|")
    rows = [
        ("service, all signatures", all_svc, 3 * n / svc_wall),
        ("service, 1st party (certifies)", svc[0], None),
        ("service, 2nd party", svc[1], None),
        ("service, 3rd party (+ finish_lta)", svc[2], None),
        ("raw pyHanko, all signatures", all_raw, 3 * n / raw_wall),
        ("raw pyHanko, 1st party", raw[0], None),
        ("raw pyHanko, 2nd party", raw[1], None),
        ("raw pyHanko, 3rd party (no LTA)", raw[2], None),
    ]
    for label, xs, rate in rows:
        r = f"{rate:6.1f}" if rate else "      "
        print(
            f"| {label:<40} | {pct(xs, 50):7.1f} | {pct(xs, 95):7.1f} | {statistics.mean(xs) * 1000:7.1f} | {r} |"
        )
    ratio = statistics.mean(all_svc) / statistics.mean(all_raw)
    ratio_12 = statistics.mean(svc[0] + svc[1]) / statistics.mean(raw[0] + raw[1])
    ratio50 = pct(all_svc, 50) / pct(all_raw, 50)
    print(f"\nservice / raw (mean per signature): {ratio:.2f}x; p50: {ratio50:.2f}x  (target <= 1.5x)")
    print(f"service / raw, parties 1-2 only (no B-LTA step in either): {ratio_12:.2f}x")
    print(
        f"visible CJK stamp: sign_pdf p50 {plain50:.1f} ms without, {stamped50:.1f} ms with -> {stamped50 - plain50:.1f} ms (target <= 60 ms)"
    )
    print(f"\ncProfile of the service path ({prof_n} agreements x 3), by cumulative time:\n")
    print(prof_text)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
