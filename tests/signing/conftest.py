"""Signing fixtures: a real PKI in a temp dir, a LibreOffice PDF, and a fully signed agreement.

Everything here is real: keys, certificates, TSA tokens, signatures. The stamp font cache is
kept between runs (content-keyed) because building it takes ~20 s.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.x509.oid import NameOID

import signing as S

MASTER = "test-master-key-not-for-production-0123456789"
PUBLIC_URL = "https://xibu.example.cn"
FONT_CACHE = Path(
    os.environ.get("XIBU_TEST_FONT_CACHE", Path(tempfile.gettempdir()) / "xibu-test-stamp-fonts")
)

ROLES = ("甲方（服务县项目办）", "乙方（志愿者）", "丙方（服务单位）")
PARTIES = (
    S.CertSubject("乌审旗项目办", "共青团乌审旗委员会", "11150626MB1234567X"),
    S.CertSubject("吉𠮷䶮", "西部计划志愿者", "XB2020-000123"),
    S.CertSubject("乌审旗第一中学", "乌审旗第一中学", "12150626MB7654321Y"),
)
FIELDS = (
    S.FieldSpec("party_a", 0, (60, 100, 230, 160)),
    S.FieldSpec("party_b", 0, (240, 100, 410, 160)),
    S.FieldSpec("party_c", 0, (420, 100, 570, 160)),
)


def make_docx(path: Path) -> None:
    from docx import Document

    doc = Document()
    doc.add_heading("西部计划志愿者服务协议", 0)
    doc.add_paragraph("甲方（服务县项目办）、乙方（志愿者）、丙方（服务单位）经协商一致，订立本协议。")
    for i in range(6):
        doc.add_paragraph(f"第{i + 1}条　志愿者在服务期内应遵守国家法律法规和服务单位的各项规章制度。")
    doc.save(str(path))


@pytest.fixture(scope="session")
def sample_pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    d = tmp_path_factory.mktemp("lo")
    make_docx(d / "agreement.docx")
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation=file://{d}/profile",
            "--convert-to",
            "pdf",
            "--outdir",
            str(d),
            str(d / "agreement.docx"),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    data = (d / "agreement.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    return data


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> S.Pki:
    return S.Pki.create(tmp_path_factory.mktemp("pki"), S.MasterKey.from_value(MASTER), PUBLIC_URL)


@pytest.fixture(scope="session")
def fonts() -> S.StampFonts:
    return S.prepare_fonts(FONT_CACHE)


@pytest.fixture(scope="session")
def tsa(pki: S.Pki) -> S.LocalTimeStamper:
    return S.LocalTimeStamper(pki.tsa_key(), pki.tsa_cert, (pki.issuing_cert,))


@dataclass(frozen=True)
class Signed:
    signers: tuple[S.SignerSpec, ...]
    revisions: tuple[bytes, ...]  # after each party
    final: bytes  # after finish_lta


def common_name(spec: S.SignerSpec) -> str:
    return str(spec.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def sign_all(
    pdf: bytes, signers: tuple[S.SignerSpec, ...], tsa: S.TimeStamper, fonts: S.StampFonts
) -> list[bytes]:
    out = []
    for i, signer in enumerate(signers):
        pdf = S.sign_pdf(
            pdf,
            signer,
            FIELDS[i],
            timestamper=tsa,
            certify=i == 0,
            later_fields=FIELDS[1:] if i == 0 else (),
            stamp=S.StampSpec(ROLES[i], common_name(signer)),
            fonts=fonts,
        )
        out.append(pdf)
    return out


@pytest.fixture(scope="session")
def signed(pki: S.Pki, sample_pdf: bytes, tsa: S.LocalTimeStamper, fonts: S.StampFonts) -> Signed:
    signers = tuple(pki.signer(f"party-{i}", pki.issue(p, f"party-{i}")) for i, p in enumerate(PARTIES))
    revs = sign_all(sample_pdf, signers, tsa, fonts)
    final = S.finish_lta(revs[-1], trust(pki), timestamper=tsa)
    return Signed(signers, tuple(revs), final)


def trust(pki: S.Pki) -> S.TrustSpec:
    return S.TrustSpec(roots=(pki.root_cert,), crls=pki.crls())
