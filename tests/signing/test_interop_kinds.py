"""Every kind, signed by every party in order, is judged valid by three verifiers that share no code.

For each of the five kinds: sample data → our template → LibreOffice (the pool) → each party signs
at its anchor with a certificate from our PKI (the first certifies and creates the later fields,
the last is followed by ``finish_lta``) → then

(a) our ``validate_pdf``,
(b) Poppler's ``pdfsig`` with our root trusted in a throw-away NSS database,
(c) pyHanko's own CLI with our root as the only trust anchor and revocation checking *on*: the
    PKI's URLs point at a live uvicorn (``tests/fixtures/pki_server.py``), time stamps come from
    its ``POST /pki/tsa``, and the CLI may fetch CRLs from its ``/pki/crl``.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import signing as S
from doc_templates.context import build_context
from doc_templates.kinds import KINDS, get_kind
from doc_templates.render import render_docx
from doc_templates.samples import SAMPLE_PERSON, SAMPLE_PLACEMENT, sample
from service.pki.fields import fields_for, role_label
from tests.documents.conftest import converter  # noqa: F401  (session fixture: the LibreOffice pool)
from tests.fixtures.pki_server import PkiServer, pki_server  # noqa: F401  (session fixture)

from .conftest import FONT_CACHE

PYHANKO = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "pyhanko")

SIGNERS = {
    "region_office": S.CertSubject(
        "内蒙古自治区西部计划项目办", "共青团内蒙古自治区委员会", "11150000MB0000001X"
    ),
    "county_office": S.CertSubject(
        "新巴尔虎右旗西部计划项目办", "共青团新巴尔虎右旗委员会", "11150727MB1234567X"
    ),
    "unit": S.CertSubject(SAMPLE_PLACEMENT.unit[:64], SAMPLE_PLACEMENT.unit[:64], "12150727MB7654321Y"),
    "volunteer": S.CertSubject(SAMPLE_PERSON.name, "大学生志愿服务西部计划志愿者", "XIBU-VSAMPLE0001"),
}


@pytest.fixture(scope="module")
def party_signers(pki_server: PkiServer) -> dict[str, S.SignerSpec]:  # noqa: F811
    p = pki_server.pki
    return {
        party: p.signer(f"interop-{party}", p.issue(subject, f"interop-{party}"))
        for party, subject in SIGNERS.items()
    }


@pytest.fixture(scope="module")
def fonts() -> S.StampFonts:
    return S.prepare_fonts(FONT_CACHE)


def sign_every_party(
    kind_code: str, pdf: bytes, signers: dict[str, S.SignerSpec], tsa: S.TimeStamper, fonts: S.StampFonts
) -> bytes:
    kind = get_kind(kind_code)
    fields = fields_for(kind, pdf)
    for i, (party, field) in enumerate(zip(kind.parties, fields, strict=True)):
        pdf = S.sign_pdf(
            pdf,
            signers[party],
            field,
            timestamper=tsa,
            certify=i == 0,
            later_fields=fields[1:] if i == 0 else (),
            stamp=S.StampSpec(role_label(kind, party), SIGNERS[party].common_name),
            fonts=fonts,
        )
    return pdf


@pytest.fixture(scope="module")
def signed_kinds(
    pki_server: PkiServer,  # noqa: F811
    converter,  # noqa: F811
    party_signers: dict[str, S.SignerSpec],
    fonts: S.StampFonts,
) -> dict[str, bytes]:
    tsa = S.http_timestamper(f"{pki_server.url}/pki/tsa")
    p = pki_server.pki
    trust = S.TrustSpec(roots=(p.root_cert,), crls=p.crls())
    out = {}
    for code in KINDS:
        docx = render_docx(code, build_context(sample(code)))
        pdf = converter.convert(docx, f"{code}.docx")
        out[code] = S.finish_lta(
            sign_every_party(code, pdf, party_signers, tsa, fonts), trust, timestamper=tsa
        )
    return out


@pytest.fixture(scope="module")
def nss_db(pki_server: PkiServer, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    d = tmp_path_factory.mktemp("nss")
    (d / "root.pem").write_bytes(pki_server.pki.root_pem)
    subprocess.run(["certutil", "-N", "-d", f"sql:{d}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(
        ["certutil", "-A", "-n", "xibu-root", "-t", "CT,C,C", "-i", str(d / "root.pem"), "-d", f"sql:{d}"],
        check=True,
        capture_output=True,
    )
    return d


@pytest.mark.parametrize("kind", list(KINDS))
class TestEveryKind:
    def test_our_validator(self, kind: str, signed_kinds: dict[str, bytes], pki_server: PkiServer) -> None:  # noqa: F811
        p = pki_server.pki
        status = S.validate_pdf(signed_kinds[kind], S.TrustSpec(roots=(p.root_cert,), crls=p.crls()))
        expected = [f"sig_{party}" for party in get_kind(kind).parties]
        assert [s.field_name for s in status.signatures] == expected
        assert status.ok, [s.problem for s in status.signatures]
        assert status.doc_timestamps == 1

    def test_pdfsig_valid_and_trusted(
        self, kind: str, signed_kinds: dict[str, bytes], nss_db: Path, tmp_path: Path
    ) -> None:
        f = tmp_path / f"{kind}.pdf"
        f.write_bytes(signed_kinds[kind])
        out = subprocess.run(
            ["pdfsig", "-nssdir", f"sql:{nss_db}", str(f)], capture_output=True, text=True, timeout=120
        ).stdout
        n = len(get_kind(kind).parties)
        blocks = re.split(r"^Signature #\d+:", out, flags=re.M)[1:]
        party_blocks = [b for b in blocks if "ETSI.CAdES.detached" in b]
        assert len(party_blocks) == n, out
        for b in party_blocks:
            assert "Signature Validation: Signature is Valid." in b, out
            assert "Certificate Validation: Certificate is Trusted." in b, out

    def test_pyhanko_cli_with_revocation_checking_over_http(
        self,
        kind: str,
        signed_kinds: dict[str, bytes],
        pki_server: PkiServer,  # noqa: F811
        tmp_path: Path,
    ) -> None:
        f = tmp_path / f"{kind}.pdf"
        f.write_bytes(signed_kinds[kind])
        (tmp_path / "root.pem").write_bytes(pki_server.pki.root_pem)
        r = subprocess.run(
            [PYHANKO, "sign", "validate", "--pretty-print", "--trust", str(tmp_path / "root.pem"),
             "--trust-replace", "--force-revinfo", str(f)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
        n = len(get_kind(kind).parties)
        assert r.stdout.count("The signature is judged VALID.") == n, r.stdout[-3000:]
        assert "INVALID" not in r.stdout and "revoked" not in r.stdout
        assert f"{pki_server.url}/pki/crl" not in r.stderr  # no fetch failure reported
