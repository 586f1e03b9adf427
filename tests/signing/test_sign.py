"""Three parties sign in order; every verifier we have agrees the result is sound."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import FieldMDPAction, MDPPerm

import signing as S

from .conftest import FIELDS, Signed, trust


class TestSignedAgreement:
    def test_each_signature_intact_valid_trusted_timestamped(self, signed: Signed, pki: S.Pki) -> None:
        status = S.validate_pdf(signed.final, trust(pki))
        assert [s.field_name for s in status.signatures] == ["party_a", "party_b", "party_c"]
        for s in status.signatures:
            assert s.ok, s.problem
            assert not s.revoked
            assert s.signing_time is not None
        assert status.doc_timestamps == 1 and status.doc_timestamps_ok
        assert status.ok

    def test_signers_are_the_expected_certificates(self, signed: Signed, pki: S.Pki) -> None:
        status = S.validate_pdf(signed.final, trust(pki))
        assert [s.signer_serial for s in status.signatures] == [
            sp.cert.serial_number for sp in signed.signers
        ]
        assert "CN=吉𠮷䶮" in status.signatures[1].signer_subject

    def test_pades_settings_and_certification(self, signed: Signed) -> None:
        reader = PdfFileReader(io.BytesIO(signed.final))
        sigs = reader.embedded_regular_signatures
        assert [e.sig_object["/SubFilter"] for e in sigs] == ["/ETSI.CAdES.detached"] * 3
        assert all(e.md_algorithm == "sha256" for e in sigs)
        assert sigs[0].docmdp_level == MDPPerm.FILL_FORMS  # certified: fill forms and sign
        assert sigs[1].fieldmdp is not None and sigs[1].fieldmdp.action == FieldMDPAction.EXCLUDE
        assert sigs[1].fieldmdp.fields == ["party_c"]
        assert sigs[2].fieldmdp is not None and sigs[2].fieldmdp.action == FieldMDPAction.ALL
        assert sigs[2].docmdp_level == MDPPerm.NO_CHANGES

    def test_each_party_adds_one_incremental_update(self, signed: Signed, sample_pdf: bytes) -> None:
        prev = sample_pdf
        for rev in signed.revisions:
            assert rev.startswith(prev)
            prev = rev
        assert signed.final.startswith(signed.revisions[-1])

    def test_pdfsig_reports_every_signature_valid(self, signed: Signed, tmp_path: Path) -> None:
        f = tmp_path / "signed.pdf"
        f.write_bytes(signed.final)
        out = subprocess.run(["pdfsig", str(f)], capture_output=True, text=True, timeout=60).stdout
        assert out.count("Signature Validation: Signature is Valid.") == 3, out
        assert out.count("Signature Type: ETSI.CAdES.detached") == 3

    def test_pdfsig_trusts_our_root(self, signed: Signed, pki: S.Pki, tmp_path: Path) -> None:
        if shutil.which("certutil") is None:
            pytest.fail("certutil missing: apt-get install libnss3-tools")
        db = tmp_path / "nss"
        db.mkdir()
        (tmp_path / "root.pem").write_bytes(pki.root_pem)
        subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True)
        subprocess.run(
            [
                "certutil",
                "-A",
                "-n",
                "xibu-root",
                "-t",
                "CT,C,C",
                "-i",
                str(tmp_path / "root.pem"),
                "-d",
                f"sql:{db}",
            ],
            check=True,
        )
        (tmp_path / "signed.pdf").write_bytes(signed.final)
        out = subprocess.run(
            ["pdfsig", "-nssdir", f"sql:{db}", str(tmp_path / "signed.pdf")],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        assert out.count("Certificate Validation: Certificate is Trusted.") == 3, out

    def test_pyhanko_cli_validates_with_our_root(self, signed: Signed, pki: S.Pki, tmp_path: Path) -> None:
        cli = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "pyhanko"
        exe = str(cli) if cli.exists() else shutil.which("pyhanko")
        assert exe, "pyhanko CLI missing: pip install pyhanko-cli"
        (tmp_path / "root.pem").write_bytes(pki.root_pem)
        (tmp_path / "signed.pdf").write_bytes(signed.final)
        # --no-revocation-check: the CLI fetches CRLs from the URLs in the certificates,
        # which are not served in tests; revocation is covered by test_pki.
        res = subprocess.run(
            [
                exe,
                "sign",
                "validate",
                "--trust-replace",
                "--trust",
                str(tmp_path / "root.pem"),
                "--no-revocation-check",
                "--executive-summary",
                str(tmp_path / "signed.pdf"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        lines = [ln for ln in res.stdout.splitlines() if ln.startswith("party_")]
        assert len(lines) == 3 and all(ln.endswith(":VALID") for ln in lines), res.stdout + res.stderr
        assert res.returncode == 0


class TestTampering:
    def test_change_after_last_signature_is_detected(self, signed: Signed, pki: S.Pki) -> None:
        w = IncrementalPdfFileWriter(io.BytesIO(signed.revisions[-1]))
        page = w.root["/Pages"]["/Kids"][0].get_object()
        page[generic.pdf_name("/Rotate")] = generic.NumberObject(90)
        w.update_container(page)
        out = io.BytesIO()
        w.write(out)
        status = S.validate_pdf(out.getvalue(), trust(pki))
        assert not status.ok
        assert all(s.intact and s.valid for s in status.signatures)
        assert not status.signatures[-1].modifications_ok
        assert status.signatures[-1].modification_level == "OTHER"

    def test_resigning_a_signed_field_is_refused(self, signed: Signed, pki: S.Pki) -> None:
        with pytest.raises(S.SigningError):
            S.sign_pdf(signed.revisions[-1], signed.signers[0], FIELDS[0], timestamper=_tsa(pki))

    def test_second_certification_is_refused(self, signed: Signed, pki: S.Pki) -> None:
        with pytest.raises(S.SigningError):
            S.sign_pdf(signed.revisions[0], signed.signers[1], FIELDS[1], timestamper=_tsa(pki), certify=True)


class TestTimestampFailure:
    def test_unreachable_tsa_raises_and_returns_nothing(self, signed: Signed, sample_pdf: bytes) -> None:
        dead = S.http_timestamper("http://127.0.0.1:9/tsa", timeout=2)
        with pytest.raises(S.TimestampUnavailable) as err:
            S.sign_pdf(sample_pdf, signed.signers[0], FIELDS[0], timestamper=dead, certify=True)
        assert "时间戳" in err.value.reason

    def test_rejecting_tsa_raises(self, signed: Signed, sample_pdf: bytes, pki: S.Pki) -> None:
        class Refusing(S.LocalTimeStamper):
            def request_tsa_response(self, req):  # type: ignore[no-untyped-def]
                from signing.timestamps import _rejection

                return _rejection("system down", "system_failure")

        tsa = Refusing(pki.tsa_key(), pki.tsa_cert, (pki.issuing_cert,))
        with pytest.raises(S.TimestampUnavailable):
            S.sign_pdf(sample_pdf, signed.signers[0], FIELDS[0], timestamper=tsa, certify=True)

    def test_lta_with_dead_tsa_raises(self, signed: Signed, pki: S.Pki) -> None:
        dead = S.http_timestamper("http://127.0.0.1:9/tsa", timeout=2)
        with pytest.raises(S.TimestampUnavailable):
            S.finish_lta(signed.revisions[-1], trust(pki), timestamper=dead)


def _tsa(pki: S.Pki) -> S.LocalTimeStamper:
    return S.LocalTimeStamper(pki.tsa_key(), pki.tsa_cert, (pki.issuing_cert,))


class TestSingleParty:
    def test_sole_certifying_signature_locks_everything_and_validates(
        self, signed: Signed, sample_pdf: bytes, pki: S.Pki
    ) -> None:
        pdf = S.sign_pdf(sample_pdf, signed.signers[0], FIELDS[0], timestamper=_tsa(pki), certify=True)
        emb = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures[0]
        assert emb.docmdp_level == MDPPerm.NO_CHANGES
        status = S.validate_pdf(S.finish_lta(pdf, trust(pki), timestamper=_tsa(pki)), trust(pki))
        assert status.ok, [s.problem for s in status.signatures]


class TestLongTermValidationData:
    def test_one_update_with_every_chain_and_crl_and_a_document_timestamp(
        self, signed: Signed, pki: S.Pki
    ) -> None:
        last = signed.revisions[-1]
        added = signed.final[len(last) :]
        assert added.count(b"%%EOF") == 1, "DSS and document timestamp go into a single update"
        reader = PdfFileReader(io.BytesIO(signed.final))
        dss = reader.root["/DSS"]
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        certs = {x509.load_der_x509_certificate(c.get_object().data) for c in dss["/Certs"]}
        expected = {*(s.cert for s in signed.signers), pki.issuing_cert, pki.root_cert, pki.tsa_cert}
        assert {c.public_bytes(Encoding.DER) for c in expected} <= {
            c.public_bytes(Encoding.DER) for c in certs
        }
        crls = {c.get_object().data for c in dss["/CRLs"]}
        assert set(pki.crls()) <= crls
        assert len(dss["/VRI"]) == 3  # one entry per signature

    def test_cached_chain_never_hides_a_revocation(
        self, pki: S.Pki, sample_pdf: bytes, tsa: S.LocalTimeStamper, fonts: S.StampFonts
    ) -> None:
        from .conftest import PARTIES

        spec = pki.signer("lta-cache", pki.issue(PARTIES[0], "lta-cache"))
        pdf = S.sign_pdf(sample_pdf, spec, FIELDS[0], timestamper=tsa, certify=True)
        S.finish_lta(pdf, trust(pki), timestamper=tsa)  # validates and caches the chain
        pki.revoke(spec.cert.serial_number)
        with pytest.raises(S.SigningError):
            S.finish_lta(pdf, trust(pki), timestamper=tsa)


class TestCmsMatchesPyhanko:
    def test_fast_cms_has_pyhankos_structure(self, signed: Signed, tsa: S.LocalTimeStamper) -> None:
        """Our pre-encoded CMS carries what pyHanko's own builder puts in, for the same input."""
        import asyncio

        from pyhanko.sign import signers

        from signing.sign import pyhanko_signer

        ours = pyhanko_signer(signed.signers[0])
        digest = bytes(range(32))
        fast = asyncio.run(ours.async_sign(digest, "sha256", use_pades=True, timestamper=tsa))
        stock = asyncio.run(
            signers.SimpleSigner.async_sign(ours, digest, "sha256", use_pades=True, timestamper=tsa)
        )

        def shape(ci: object) -> tuple[object, ...]:
            sd = ci["content"]  # type: ignore[index]
            si = sd["signer_infos"][0]
            return (
                sd["version"].native,
                sd["digest_algorithms"].dump(),
                sd["encap_content_info"].dump(),
                sorted(c.dump() for c in sd["certificates"]),
                si["sid"].dump(),
                si["digest_algorithm"].dump(),
                si["signature_algorithm"].dump(),
                sorted((a["type"].native, a["values"].dump()) for a in si["signed_attrs"]),
                [a["type"].native for a in si["unsigned_attrs"]],
            )

        assert shape(fast) == shape(stock)
        _assert_der_as_asn1crypto_writes(fast)


def _assert_der_as_asn1crypto_writes(signed_data: Any) -> None:
    """Every header minimal, and each part where DER has a choice encoded as asn1crypto would.

    One ``dump(force=True)`` of the whole CMS would say the same, but asn1crypto re-encodes nested
    values it has touched once per level above them: a minute for one signature with its timestamp
    token. The parts where DER leaves a choice (SET OF order, omitted defaults, minimal integers)
    are small, so each is re-encoded on its own; the nesting around them is checked header by header.
    """
    data = signed_data.dump()
    _assert_minimal_headers(data)

    def forced(value: Any) -> bytes:
        return bytes(value.copy().dump(force=True))  # a deep copy: the original keeps its bytes

    sd = signed_data["content"]
    for name in ("version", "digest_algorithms", "encap_content_info", "certificates"):
        assert sd[name].dump() == forced(sd[name]), name
    for si in sd["signer_infos"]:
        for name in (
            "version",
            "sid",
            "digest_algorithm",
            "signed_attrs",
            "signature_algorithm",
            "signature",
        ):
            assert si[name].dump() == forced(si[name]), name
        for attr in si["unsigned_attrs"]:
            assert attr["type"].native == "signature_time_stamp_token"
            for token in attr["values"]:
                _assert_der_as_asn1crypto_writes(token)


def _assert_minimal_headers(data: bytes) -> None:
    """Each tag and length in ``data`` written in its one DER form, all the way down."""
    from asn1crypto import parser

    offset = 0
    while offset < len(data):
        class_, method, tag, header, contents, trailer = parser.parse(data[offset:], strict=False)
        assert not trailer, f"indefinite length at byte {offset}"
        assert parser.emit(class_, method, tag, contents) == header + contents, f"header at byte {offset}"
        if method == 1:
            _assert_minimal_headers(contents)
        offset += len(header) + len(contents)


class TestRsaSigner:
    def test_rsa_key_signs_and_validates(
        self, pki: S.Pki, sample_pdf: bytes, tsa: S.LocalTimeStamper
    ) -> None:
        """An organization's own RSA key (imported PKCS#12) goes through the same pre-encoded CMS."""
        from cryptography.hazmat.primitives.asymmetric import rsa

        from .conftest import PUBLIC_URL

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = S.issue_signing_cert(
            key.public_key(),
            S.CertSubject("自带证书单位"),
            pki.keys.load(pki.ISSUING_KEY),
            pki.issuing_cert,
            public_url=PUBLIC_URL,
        )
        spec = S.SignerSpec(key=key, cert=cert, chain=(pki.issuing_cert,))
        pdf = S.sign_pdf(sample_pdf, spec, FIELDS[0], timestamper=tsa, certify=True)
        status = S.validate_pdf(S.finish_lta(pdf, trust(pki), timestamper=tsa), trust(pki))
        assert status.ok, [s.problem for s in status.signatures]
        sig = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures[0]
        assert sig.signer_info["signature_algorithm"]["algorithm"].native == "sha256_rsa"
