"""Keys on disk are sealed; the wrong master key fails loudly; PKCS#12 import checks itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

import signing as S

from .conftest import MASTER


class TestKeyStore:
    def test_key_file_is_not_a_readable_key(self, pki: S.Pki) -> None:
        blob = (pki.dir / "keys" / "issuing-ca.key").read_bytes()
        key = pki.keys.load("issuing-ca")
        der = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        assert der not in blob and b"PRIVATE KEY" not in blob
        with pytest.raises(ValueError):
            serialization.load_der_private_key(blob, password=None)
        assert (pki.dir / "keys" / "issuing-ca.key").stat().st_mode & 0o077 == 0

    def test_wrong_master_key_is_a_clear_error(self, pki: S.Pki) -> None:
        store = S.KeyStore(pki.dir / "keys", S.MasterKey.from_value("another-master-key-0123456789abcdef"))
        with pytest.raises(S.KeyStoreError) as err:
            store.load("issuing-ca")
        assert "主密钥不正确" in err.value.reason

    def test_swapped_key_file_is_rejected(self, tmp_path: Path) -> None:
        store = S.KeyStore(tmp_path, S.MasterKey.from_value(MASTER))
        store.put("alice", S.generate_key())
        (tmp_path / "bob.key").write_bytes((tmp_path / "alice.key").read_bytes())
        with pytest.raises(S.KeyStoreError):
            S.KeyStore(tmp_path, S.MasterKey.from_value(MASTER)).load("bob")

    def test_roundtrip_from_key_file_and_no_overwrite(self, tmp_path: Path) -> None:
        (tmp_path / "master.key").write_text(MASTER + "\n")
        mk = S.MasterKey.from_file(tmp_path / "master.key")
        key = S.generate_key()
        S.KeyStore(tmp_path / "k", mk).put("p1", key)
        loaded = S.KeyStore(tmp_path / "k", mk).load("p1")
        assert loaded.public_key().public_numbers() == key.public_key().public_numbers()
        with pytest.raises(S.KeyStoreError):
            S.KeyStore(tmp_path / "k", mk).put("p1", S.generate_key())

    def test_loaded_key_is_cached(self, pki: S.Pki) -> None:
        assert pki.keys.load("tsa") is pki.keys.load("tsa")

    def test_secrets_never_in_repr(self) -> None:
        key = S.generate_key()
        mk = S.MasterKey.from_value(MASTER)
        assert MASTER not in repr(mk)
        spec = S.SignerSpec(key=key, cert=_self_signed(key, ca=False))
        assert "key=" not in repr(spec)

    def test_short_master_key_refused(self) -> None:
        with pytest.raises(S.KeyStoreError):
            S.MasterKey.from_value("short")


def _self_signed(key: S.PrivateKey, *, ca: bool) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "外部CA测试")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(not ca, not ca, False, False, False, ca, ca, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )


class TestPkcs12Import:
    def test_external_identity_imports(self) -> None:
        key = S.generate_key()
        cert = _self_signed(key, ca=False)
        p12 = pkcs12.serialize_key_and_certificates(
            b"org", key, cert, None, serialization.BestAvailableEncryption(b"pw")
        )
        spec = S.import_pkcs12(p12, "pw")
        assert spec.cert == cert

    def test_wrong_password(self) -> None:
        key = S.generate_key()
        p12 = pkcs12.serialize_key_and_certificates(
            b"org", key, _self_signed(key, ca=False), None, serialization.BestAvailableEncryption(b"pw")
        )
        with pytest.raises(S.PkiError) as err:
            S.import_pkcs12(p12, "nope")
        assert "密码错误" in err.value.reason

    def test_certificate_only_is_refused(self) -> None:
        key = S.generate_key()
        p12 = pkcs12.serialize_key_and_certificates(
            b"org", None, None, [_self_signed(key, ca=False)], serialization.NoEncryption()
        )
        with pytest.raises(S.PkiError):
            S.import_pkcs12(p12, None)

    def test_ca_certificate_is_refused(self) -> None:
        key = S.generate_key()
        p12 = pkcs12.serialize_key_and_certificates(
            b"org", key, _self_signed(key, ca=True), None, serialization.NoEncryption()
        )
        with pytest.raises(S.PkiError):
            S.import_pkcs12(p12, None)
