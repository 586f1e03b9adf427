"""Certificates say what they must; revocation reaches the CRL and the verifier."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import signing as S

from .conftest import MASTER, PUBLIC_URL, sign_all, trust


def _ext(cert: x509.Certificate, cls: type) -> x509.Extension:
    return cert.extensions.get_extension_for_class(cls)


class TestCertificates:
    def test_chain_root_issuing_tsa(self, pki: S.Pki) -> None:
        assert pki.root_cert.issuer == pki.root_cert.subject
        assert pki.issuing_cert.issuer == pki.root_cert.subject
        assert pki.tsa_cert.issuer == pki.issuing_cert.subject
        pki.issuing_cert.verify_directly_issued_by(pki.root_cert)
        pki.tsa_cert.verify_directly_issued_by(pki.issuing_cert)

    def test_tsa_has_critical_timestamping_eku(self, pki: S.Pki) -> None:
        eku = _ext(pki.tsa_cert, x509.ExtendedKeyUsage)
        assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]

    def test_party_certificate_profile(self, pki: S.Pki) -> None:
        cert = pki.issue(
            S.CertSubject("达拉特旗项目办", "共青团达拉特旗委员会", "11150621MB0000001A"), "profile-test"
        )
        ku = _ext(cert, x509.KeyUsage).value
        assert ku.digital_signature and ku.content_commitment and not ku.key_cert_sign
        assert not _ext(cert, x509.BasicConstraints).value.ca
        assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "11150621MB0000001A"
        assert cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "CN"
        cdp = _ext(cert, x509.CRLDistributionPoints).value
        assert cdp[0].full_name[0].value == f"{PUBLIC_URL}/pki/crl"
        assert isinstance(cert.public_key(), S.generate_key().public_key().__class__)

    @pytest.mark.filterwarnings("ignore:Attribute's length:UserWarning")
    def test_long_chinese_name_fits_64_characters(self, pki: S.Pki) -> None:
        name = "内蒙古自治区鄂尔多斯市乌审旗人民政府图克镇中心学校"  # > 64 UTF-8 bytes
        cert = pki.issue(S.CertSubject(name), "long-name")
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == name
        with pytest.raises(S.PkiError):
            pki.issue(S.CertSubject("长" * 65), "too-long")

    def test_second_init_is_refused(self, pki: S.Pki) -> None:
        with pytest.raises(S.PkiError):
            S.Pki.create(pki.dir, S.MasterKey.from_value(MASTER), PUBLIC_URL)

    def test_reopen_uses_the_same_root(self, pki: S.Pki) -> None:
        again = S.Pki(pki.dir, S.MasterKey.from_value(MASTER), PUBLIC_URL)
        assert again.root_pem == pki.root_pem


class TestRevocation:
    def test_revoked_serial_in_crl_and_signer_reported_revoked(
        self, pki: S.Pki, sample_pdf: bytes, tsa: S.LocalTimeStamper, fonts: S.StampFonts
    ) -> None:
        from .conftest import PARTIES

        signers = tuple(pki.signer(f"rev-{i}", pki.issue(p, f"rev-{i}")) for i, p in enumerate(PARTIES))
        signed = sign_all(sample_pdf, signers, tsa, fonts)[-1]
        before = S.validate_pdf(signed, trust(pki))
        assert before.signatures[1].trusted and not before.signatures[1].revoked

        victim = signers[1].cert.serial_number
        pki.revoke(victim, x509.ReasonFlags.key_compromise)
        crl = x509.load_der_x509_crl(pki.crls()[0])
        entry = crl.get_revoked_certificate_by_serial_number(victim)
        assert entry is not None
        assert (
            entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
            == x509.ReasonFlags.key_compromise
        )
        assert crl.is_signature_valid(pki.issuing_cert.public_key())  # type: ignore[arg-type]

        after = S.validate_pdf(signed, trust(pki))
        assert after.signatures[1].revoked and not after.signatures[1].trusted
        assert after.signatures[0].trusted and after.signatures[2].trusted
        assert not after.ok
        with pytest.raises(S.SigningError):
            S.finish_lta(signed, trust(pki), timestamper=tsa)
        with pytest.raises(S.PkiError):
            pki.revoke(victim)


class TestCrlAcrossProcesses:
    """A revocation published by one process is in every other process's next ``crls()``."""

    def _revoked(self, crl_der: bytes, serial: int) -> bool:
        crl = x509.load_der_x509_crl(crl_der)
        return crl.get_revoked_certificate_by_serial_number(serial) is not None

    def test_second_pki_object_sees_revocation_made_by_first(self, pki: S.Pki) -> None:
        other = S.Pki(pki.dir, S.MasterKey.from_value(MASTER), PUBLIC_URL)
        cert = pki.issue(S.CertSubject("跨进程吊销测试一"), "xproc-1")
        before = other.crls()  # cached in `other` now
        assert not self._revoked(before[0], cert.serial_number)
        pki.revoke(cert.serial_number)
        after = other.crls()
        assert self._revoked(after[0], cert.serial_number), "other Pki served its stale cached CRL"
        assert after == pki.crls()

    def test_revocation_in_a_child_process_is_seen_here(self, pki: S.Pki) -> None:
        import subprocess
        import sys

        cert = pki.issue(S.CertSubject("跨进程吊销测试二"), "xproc-2")
        assert not self._revoked(pki.crls()[0], cert.serial_number)
        code = (
            "import sys, signing as S\n"
            "p = S.Pki(sys.argv[1], S.MasterKey.from_value(sys.argv[2]), sys.argv[3])\n"
            "p.revoke(int(sys.argv[4]))\n"
        )
        subprocess.run(
            [sys.executable, "-c", code, str(pki.dir), MASTER, PUBLIC_URL, str(cert.serial_number)],
            check=True,
            timeout=60,
        )
        assert self._revoked(pki.crls()[0], cert.serial_number)

    def test_unchanged_files_are_not_republished(self, pki: S.Pki) -> None:
        first = pki.crls()
        other = S.Pki(pki.dir, S.MasterKey.from_value(MASTER), PUBLIC_URL)
        assert other.crls() == first == pki.crls()
