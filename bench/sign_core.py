"""Signing cost: our ``sign_pdf`` against raw pyHanko with the same keys and PAdES settings.

100 one-page PDFs × 3 signatures. Raw pyHanko = ``signers.sign_pdf`` with a stock
``SimpleSigner`` (key re-loaded per signature), same field plan, same TSA, no stamp. Ours is
measured without a stamp (like for like) and with the visible CJK stamp; the stamp cost is the
difference of medians. Run: ``.venv/bin/python -m bench.sign_core [N]``.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields as ph_fields
from pyhanko.sign import signers
from pyhanko.sign.fields import MDPPerm
from pyhanko_certvalidator.registry import SimpleCertificateStore

import signing as S
from signing.sign import _asn1_cert, pades_metadata

ROLES = ("甲方（服务县项目办）", "乙方（志愿者）", "丙方（服务单位）")
NAMES = ("乌审旗项目办", "王小明", "乌审旗第一中学")
FIELDS = (
    S.FieldSpec("party_a", 0, (60, 100, 230, 160)),
    S.FieldSpec("party_b", 0, (240, 100, 410, 160)),
    S.FieldSpec("party_c", 0, (420, 100, 570, 160)),
)


def one_page_pdfs(n: int, workdir: Path) -> list[bytes]:
    """One LibreOffice conversion of one page, then n variants (a distinct /Info title each)."""
    from docx import Document

    doc = Document()
    doc.add_heading("西部计划志愿者服务协议", 0)
    doc.add_paragraph("甲方（服务县项目办）、乙方（志愿者）、丙方（服务单位）经协商一致，订立本协议。")
    doc.save(str(workdir / "a.docx"))
    subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{workdir}/lo", "--convert-to", "pdf",
         "--outdir", str(workdir), str(workdir / "a.docx")],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    base = (workdir / "a.pdf").read_bytes()
    out = []
    for i in range(n):
        w = IncrementalPdfFileWriter(io.BytesIO(base))
        w.set_info(None)
        w.root["/XibuBench"] = generic.NumberObject(i)
        w.update_root()
        buf = io.BytesIO()
        w.write(buf)
        out.append(buf.getvalue())
    return out


def raw_pyhanko(pdf: bytes, i: int, spec: S.SignerSpec, tsa: S.TimeStamper) -> bytes:
    der = spec.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = signers.SimpleSigner(
        signing_cert=_asn1_cert(spec.cert),
        signing_key=asn1_keys.PrivateKeyInfo.load(der),
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(c) for c in spec.chain]),
    )
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    plan = S.field_plan(FIELDS)
    if i == 0:
        for f in plan:
            ph_fields.append_signature_field(w, f)
    perm = MDPPerm.NO_CHANGES if i == 2 else MDPPerm.FILL_FORMS
    out = io.BytesIO()
    signers.sign_pdf(
        w,
        pades_metadata(FIELDS[i].name, certify=i == 0, permission=perm),
        signer,
        timestamper=tsa,
        output=out,
    )
    return out.getvalue()


def ours(pdf: bytes, i: int, spec: S.SignerSpec, tsa: S.TimeStamper, fonts: S.StampFonts | None) -> bytes:
    return S.sign_pdf(
        pdf, spec, FIELDS[i], timestamper=tsa, certify=i == 0,
        later_fields=FIELDS[1:] if i == 0 else (),
        stamp=S.StampSpec(ROLES[i], NAMES[i]) if fonts else None, fonts=fonts,
    )  # fmt: skip


def pct(xs: list[float], p: float) -> float:
    return sorted(xs)[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))] * 1000


def main(n: int = 100) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        pki = S.Pki.create(
            d / "pki", S.MasterKey.from_value("bench-master-key-0123456789abcdef"), "https://x.cn"
        )
        fonts = S.prepare_fonts(Path(tempfile.gettempdir()) / "xibu-test-stamp-fonts")
        tsa = S.LocalTimeStamper(pki.tsa_key(), pki.tsa_cert, (pki.issuing_cert,))
        specs = [pki.signer(f"p{i}", pki.issue(S.CertSubject(NAMES[i]), f"p{i}")) for i in range(3)]
        pdfs = one_page_pdfs(n, d)
        runs: dict[str, list[float]] = {"raw pyHanko": [], "ours, no stamp": [], "ours + CJK stamp": []}
        for pdf in pdfs[:3]:  # warm-up: imports, font parsing, first-call caches
            for i in range(3):
                pdf = ours(pdf, i, specs[i], tsa, fonts)
        for pdf in pdfs:
            docs = {k: pdf for k in runs}
            for i in range(3):
                for label in runs:
                    t = time.perf_counter()
                    if label == "raw pyHanko":
                        docs[label] = raw_pyhanko(docs[label], i, specs[i], tsa)
                    else:
                        docs[label] = ours(docs[label], i, specs[i], tsa, fonts if "stamp" in label else None)
                    runs[label].append(time.perf_counter() - t)
        lta = []
        for _ in range(10):
            t = time.perf_counter()
            S.finish_lta(docs["ours + CJK stamp"], S.TrustSpec((pki.root_cert,), pki.crls()), timestamper=tsa)
            lta.append(time.perf_counter() - t)
        raw50 = pct(runs["raw pyHanko"], 50)
        print(f"{n} one-page PDFs x 3 signatures (ECDSA P-256, PAdES B-T, built-in TSA)\n")
        print(f"| {'variant':<18} | {'p50 ms':>7} | {'p95 ms':>7} | {'vs raw p50':>10} |")
        print(f"|{'-' * 20}|{'-' * 9}|{'-' * 9}|{'-' * 12}|")
        for label, xs in runs.items():
            p50 = pct(xs, 50)
            print(f"| {label:<18} | {p50:7.1f} | {pct(xs, 95):7.1f} | {p50 / raw50:9.2f}x |")
        stamp = pct(runs["ours + CJK stamp"], 50) - pct(runs["ours, no stamp"], 50)
        print(f"\nvisible CJK stamp cost (p50 difference): {stamp:.1f} ms (target <= 60 ms)")
        print(f"finish_lta (DSS + document timestamp), p50 of 10: {pct(lta, 50):.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
