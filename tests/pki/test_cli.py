"""``xibu pki revoke`` and ``xibu pki import-p12``, run as the separate processes they are in production."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlmodel import Session, select

import signing as S
from service.organizations.service import region_office
from service.pki import service as pki
from storage.models import Organization, SignerCertificate

ROOT = Path(__file__).resolve().parents[2]


def xibu(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def _office_with_certificate(engine: object) -> tuple[int, str]:
    with Session(engine) as session:  # type: ignore[call-overload]
        office = region_office(session)
        record, _spec = pki.signer_for(session, organization=office)
        session.commit()
        assert office.id is not None
        return office.id, record.serial


def _crl_serials(client: TestClient) -> set[int]:
    return {r.serial_number for r in x509.load_der_x509_crl(client.get("/pki/crl").content)}


class TestRevoke:
    def test_revoking_an_organization_lists_it_in_the_served_crl_and_the_next_signature_gets_a_new_certificate(
        self, engine: object, client: TestClient, pki_ready: S.Pki
    ) -> None:
        org_id, serial = _office_with_certificate(engine)
        assert int(serial, 16) not in _crl_serials(client)  # warms the web side's CRL cache first

        r = xibu("pki", "revoke", "--org-id", str(org_id), "--reason", "印章管理员离职", "--key-compromise")
        assert r.returncode == 0, r.stderr
        assert serial in r.stdout

        crl = x509.load_der_x509_crl(client.get("/pki/crl").content)
        entry = crl.get_revoked_certificate_by_serial_number(int(serial, 16))
        assert entry is not None
        assert (
            entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
            == x509.ReasonFlags.key_compromise
        )
        with Session(engine) as session:  # type: ignore[call-overload]
            old = session.exec(select(SignerCertificate).where(SignerCertificate.serial == serial)).one()
            assert old.revoked_at is not None and old.revocation_reason == "印章管理员离职" and not old.active
            fresh, spec = pki.signer_for(session, organization=session.get(Organization, org_id))
            assert fresh.serial != serial and spec.cert.serial_number == int(fresh.serial, 16)

    def test_revoking_by_serial(self, engine: object, client: TestClient, pki_ready: S.Pki) -> None:
        _org_id, serial = _office_with_certificate(engine)
        r = xibu("pki", "revoke", "--serial", serial.upper(), "--reason", "测试")
        assert r.returncode == 0, r.stderr
        assert int(serial, 16) in _crl_serials(client)

    def test_exactly_one_target_and_a_known_serial_are_required(
        self, engine: object, pki_ready: S.Pki
    ) -> None:
        assert xibu("pki", "revoke", "--reason", "x").returncode == 2
        assert xibu("pki", "revoke", "--serial", "ab", "--org-id", "1", "--reason", "x").returncode == 2
        unknown = xibu("pki", "revoke", "--serial", "abcdef", "--reason", "x")
        assert unknown.returncode == 1 and "不存在" in unknown.stderr


def _external_p12(tmp_path: Path, password: bytes) -> tuple[Path, x509.Certificate]:
    """A PKCS#12 as an outside CA would hand it to an organization: leaf + that CA's root."""
    now = datetime.now(UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "某商业CA 根证书")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "乌审旗项目办（自有证书）")]))
        .issuer_name(ca_name).public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    blob = pkcs12.serialize_key_and_certificates(
        b"org", leaf_key, leaf, [ca], serialization.BestAvailableEncryption(password)
    )
    path = tmp_path / "org.p12"
    path.write_bytes(blob)
    return path, leaf


def test_imported_p12_is_preferred_and_signs(
    engine: object, pki_ready: S.Pki, tmp_path: Path, plain_pdf: bytes
) -> None:
    org_id, ours = _office_with_certificate(engine)
    path, leaf = _external_p12(tmp_path, b"p12-secret")
    wrong = xibu("pki", "import-p12", "--org-id", str(org_id), str(path), "--password", "nope")
    assert wrong.returncode == 1 and "密码错误" in wrong.stderr

    r = xibu("pki", "import-p12", "--org-id", str(org_id), str(path), "--password", "p12-secret")
    assert r.returncode == 0, r.stderr
    with Session(engine) as session:  # type: ignore[call-overload]
        record, spec = pki.signer_for(session, organization=session.get(Organization, org_id))
    assert record.external and record.serial != ours
    assert spec.cert == leaf and len(spec.chain) == 1
    signed = S.sign_pdf(
        plain_pdf,
        spec,
        S.FieldSpec("sig_region_office", 0, (60, 100, 230, 160)),
        timestamper=pki.timestamper(),
    )
    (sig,) = S.validate_pdf(signed, pki.trust()).signatures
    assert sig.intact and sig.valid and sig.signer_serial == leaf.serial_number
    assert "乌审旗项目办（自有证书）" in sig.signer_subject
