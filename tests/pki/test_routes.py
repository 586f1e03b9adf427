"""The public PKI endpoints: what they serve, that certificates point at them, and that a verifier
elsewhere (pyHanko's CLI) fetches our CRLs over HTTP and sees a revocation."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from asn1crypto import core, tsp
from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID
from fastapi.testclient import TestClient

import signing as S
from service.pki.routes import EMBEDDED_PATHS
from tests.fixtures.pki_server import PkiServer

PYHANKO = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "pyhanko")
TSQ = "application/timestamp-query"


def _tsq(data: bytes, nonce: int = 12345) -> bytes:
    return tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": hashlib.sha256(data).digest(),
            },
            "nonce": nonce,
            "cert_req": True,
        }
    ).dump()


class TestServedContent:
    def test_root_and_issuing_certificates_are_ours_as_pem(
        self, client: TestClient, pki_ready: S.Pki
    ) -> None:
        root = client.get("/pki/root.pem")
        issuing = client.get("/pki/issuing.pem")
        assert root.status_code == issuing.status_code == 200
        assert root.headers["content-type"] == issuing.headers["content-type"] == "application/x-pem-file"
        assert x509.load_pem_x509_certificate(root.content) == pki_ready.root_cert
        assert x509.load_pem_x509_certificate(issuing.content) == pki_ready.issuing_cert

    def test_crls_parse_and_are_signed_by_the_right_ca(self, client: TestClient, pki_ready: S.Pki) -> None:
        issuing, root = client.get("/pki/crl"), client.get("/pki/root-crl")
        assert issuing.headers["content-type"] == root.headers["content-type"] == "application/pkix-crl"
        issuing_crl = x509.load_der_x509_crl(issuing.content)
        root_crl = x509.load_der_x509_crl(root.content)
        assert issuing_crl.issuer == pki_ready.issuing_cert.subject
        assert issuing_crl.is_signature_valid(pki_ready.issuing_cert.public_key())  # type: ignore[arg-type]
        assert root_crl.issuer == pki_ready.root_cert.subject
        assert root_crl.is_signature_valid(pki_ready.root_cert.public_key())  # type: ignore[arg-type]
        assert not root_crl.is_signature_valid(pki_ready.issuing_cert.public_key())  # type: ignore[arg-type]

    def test_tsa_grants_a_token_over_the_request_imprint(self, client: TestClient, pki_ready: S.Pki) -> None:
        body = _tsq(b"document bytes", nonce=987654321)
        r = client.post("/pki/tsa", content=body, headers={"content-type": TSQ})
        assert r.status_code == 200 and r.headers["content-type"] == "application/timestamp-reply"
        resp = tsp.TimeStampResp.load(r.content)
        assert resp["status"]["status"].native == "granted"
        info = resp["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
        assert info["message_imprint"]["hashed_message"].native == hashlib.sha256(b"document bytes").digest()
        assert info["nonce"].native == 987654321
        certs = resp["time_stamp_token"]["content"]["certificates"]  # a DER SET: sorted, not in our order
        assert pki_ready.tsa_cert.serial_number in {c.chosen.serial_number for c in certs}

    def test_tsa_rejects_garbage_with_an_rfc3161_rejection(
        self, client: TestClient, pki_ready: S.Pki
    ) -> None:
        r = client.post("/pki/tsa", content=b"\x30\x03garbage", headers={"content-type": TSQ})
        assert r.status_code == 200
        # asn1crypto cannot load a TimeStampResp without a token, so read the status by hand.
        status = tsp.PKIStatusInfo.load(core.Sequence.load(r.content)[0].dump())
        assert status["status"].native == "rejection"

    def test_tsa_refuses_other_media_types_and_huge_bodies(
        self, client: TestClient, pki_ready: S.Pki
    ) -> None:
        assert (
            client.post("/pki/tsa", content=_tsq(b"x"), headers={"content-type": "text/plain"}).status_code
            == 415
        )
        huge = client.post("/pki/tsa", content=b"\x00" * 10_000, headers={"content-type": TSQ})
        assert huge.status_code == 413

    def test_tsa_is_absent_when_an_external_tsa_is_configured(
        self, client: TestClient, pki_ready: S.Pki, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from service.config import get_settings

        monkeypatch.setattr(get_settings(), "tsa_url", "https://tsa.example.cn/tsr")
        r = client.post("/pki/tsa", content=_tsq(b"x"), headers={"content-type": TSQ})
        assert r.status_code == 404

    def test_endpoints_need_no_login_and_are_outside_the_api_prefix(self, client: TestClient) -> None:
        assert client.get("/api/v1/pki/root.pem").status_code == 404
        assert client.get("/pki/root.pem").status_code == 200


def _cdp(cert: x509.Certificate) -> list[str]:
    ext = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    return [n.value for dp in ext for n in (dp.full_name or [])]


def _aia(cert: x509.Certificate) -> list[str]:
    ext = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    return [
        d.access_location.value for d in ext if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS
    ]


class TestEmbeddedUrls:
    def test_every_url_a_certificate_carries_is_served_with_the_right_type(
        self, pki_server: PkiServer
    ) -> None:
        p = pki_server.pki
        party = p.issue(S.CertSubject("乌审旗第一中学"), "embedded-urls")
        urls = {
            "party CRL": _cdp(party),
            "party AIA": _aia(party),
            "TSA CRL": _cdp(p.tsa_cert),
            "issuing CA CRL": _cdp(p.issuing_cert),
        }
        assert urls == {
            "party CRL": [f"{pki_server.url}/pki/crl"],
            "party AIA": [f"{pki_server.url}/pki/issuing.pem"],
            "TSA CRL": [f"{pki_server.url}/pki/crl"],
            "issuing CA CRL": [f"{pki_server.url}/pki/root-crl"],
        }
        served = {u[len(pki_server.url) :] for us in urls.values() for u in us}
        assert served == set(EMBEDDED_PATHS)
        for path in EMBEDDED_PATHS:
            body, ctype = pki_server.get(path)
            if path.endswith(".pem"):
                assert ctype == "application/x-pem-file"
                assert x509.load_pem_x509_certificate(body) == p.issuing_cert
            else:
                assert ctype == "application/pkix-crl"
                x509.load_der_x509_crl(body)


def _pyhanko_validate(pdf: Path, root: Path) -> subprocess.CompletedProcess[str]:
    """pyHanko's own CLI, revocation checking on and required, fetching over HTTP."""
    return subprocess.run(
        [PYHANKO, "sign", "validate", "--pretty-print", "--trust", str(root), "--trust-replace",
         "--force-revinfo", str(pdf)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_pyhanko_fetches_our_crls_over_http_and_sees_a_revocation(
    pki_server: PkiServer, converter, tmp_path: Path
) -> None:
    """Signed with a certificate from a PKI whose URLs point at a live uvicorn; no CRL is embedded,
    so whatever pyHanko knows about revocation it fetched from us. Revoking in this process shows up
    in the server process at once (no per-process CRL cache in the way)."""
    from docx import Document as Docx

    p = pki_server.pki
    d = Docx()
    d.add_paragraph("吊销测试：本文件由一张随后被吊销的证书签署。")
    d.save(str(tmp_path / "r.docx"))
    pdf = converter.convert((tmp_path / "r.docx").read_bytes(), "r.docx")
    signer = p.signer("revoke-me", p.issue(S.CertSubject("将被吊销的单位"), "revoke-me"))
    tsa = S.http_timestamper(f"{pki_server.url}/pki/tsa")  # our TSA endpoint, over HTTP
    signed = S.sign_pdf(pdf, signer, S.FieldSpec("sig_unit", 0, (60, 100, 230, 160)), timestamper=tsa)
    (tmp_path / "signed.pdf").write_bytes(signed)
    (tmp_path / "root.pem").write_bytes(p.root_pem)
    log = pki_server.data_dir / "uvicorn.log"
    fetched_before = log.read_text().count('"GET /pki/crl HTTP/1.1" 200')

    before = _pyhanko_validate(tmp_path / "signed.pdf", tmp_path / "root.pem")
    assert before.returncode == 0, before.stdout + before.stderr
    assert "The signature is judged VALID." in before.stdout
    assert log.read_text().count('"GET /pki/crl HTTP/1.1" 200') > fetched_before, "CRL fetched over HTTP"

    p.revoke(signer.cert.serial_number, x509.ReasonFlags.key_compromise)
    after = _pyhanko_validate(tmp_path / "signed.pdf", tmp_path / "root.pem")
    assert after.returncode != 0
    assert "The signer's certificate is revoked." in after.stdout
    assert "judged INVALID" in after.stdout
