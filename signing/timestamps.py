"""Time-stamp authorities: the built-in one and a client for an external one.

Both are pyHanko ``TimeStamper`` objects, so ``sign.py`` treats them alike. pyHanko's own
``DummyTimeStamper`` signs with RSA only, and our TSA key is ECDSA P-256, so the built-in
TSA here builds and signs the RFC 3161 token itself (SigningCertificateV2, SHA-256).

:func:`LocalTimeStamper.respond` takes a DER ``TimeStampReq`` and returns a DER
``TimeStampResp``: the web service can mount it at an HTTP endpoint
(``application/timestamp-query`` → ``application/timestamp-reply``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper

from .keys import PrivateKey

__all__ = ["TSA_POLICY_OID", "LocalTimeStamper", "TimeStamper", "http_timestamper"]

TSA_POLICY_OID = "2.25.201948712351184127836312948572063716403"
"""Our TSA policy identifier (a UUID-derived OID, RFC 4122 §4.3 / ITU-T X.667)."""

_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _rejection(text: str, fail_info: str) -> tsp.TimeStampResp:
    return tsp.TimeStampResp(
        {
            "status": tsp.PKIStatusInfo(
                {
                    "status": tsp.PKIStatus("rejection"),
                    "status_string": [text],
                    "fail_info": tsp.PKIFailureInfo({fail_info}),
                }
            )
        }
    )


def _dump(resp: tsp.TimeStampResp) -> bytes:
    """DER of a response; asn1crypto insists on a token, which a rejection has none of."""
    if resp["status"]["status"].native in ("granted", "granted_with_mods"):
        return resp.dump()
    body = resp["status"].dump()
    return core.Sequence.load(b"\x30" + _der_len(len(body)) + body).dump()


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


class LocalTimeStamper(TimeStamper):
    """The built-in RFC 3161 TSA, running in-process with the PKI's TSA key.

    :param key: the TSA's private key (ECDSA P-256 or RSA).
    :param cert: the TSA certificate (extendedKeyUsage timeStamping, critical).
    :param chain: certificates embedded alongside (the issuing CA), so verifiers can build
        the path without fetching.
    :param clock: returns the current time; tests may pin it. It is the *TSA's* clock — the
        signer's never stands in for it.
    """

    def __init__(
        self,
        key: PrivateKey,
        cert: x509.Certificate,
        chain: tuple[x509.Certificate, ...] = (),
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(include_nonce=True)
        self._key = key
        self._cert = _to_asn1(cert)
        self._chain = [_to_asn1(c) for c in chain]
        self._clock = clock or (lambda: datetime.now(UTC))

    def respond(self, tsq: bytes) -> bytes:
        """Answer one DER-encoded ``TimeStampReq`` with a DER ``TimeStampResp``.

        Malformed or unsupported requests get a ``rejection`` response, as RFC 3161 asks.
        """
        try:
            req = tsp.TimeStampReq.load(tsq)
            req.native  # noqa: B018 — force a full parse so garbage is rejected here
        except (ValueError, TypeError):
            return _dump(_rejection("bad request", "bad_data_format"))
        return _dump(self.request_tsa_response(req))

    def request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """Build and sign the token for ``req`` (synchronously)."""
        imprint: tsp.MessageImprint = req["message_imprint"]
        md = imprint["hash_algorithm"]["algorithm"].native
        if md not in _HASHES:
            return _rejection(f"unsupported digest {md}", "bad_alg")
        if req["req_policy"].native not in (None, TSA_POLICY_OID):
            return _rejection("unaccepted policy", "unaccepted_policy")
        now = self._clock().astimezone(UTC).replace(microsecond=0)
        info = {
            "version": "v1",
            "policy": TSA_POLICY_OID,
            "message_imprint": imprint,
            "serial_number": secrets.randbits(127),
            "gen_time": now,
            "accuracy": {"seconds": 1},
            "tsa": asn1_x509.GeneralName(name="directory_name", value=self._cert.subject),
        }
        if req["nonce"].native is not None:
            info["nonce"] = req["nonce"]
        tst_info = tsp.TSTInfo(info).dump()
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(now)})),
                simple_cms_attribute("signing_certificate_v2", as_signing_certificate_v2(self._cert)),
                simple_cms_attribute("message_digest", hashlib.sha256(tst_info).digest()),
            ]
        )
        key = self._key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            signature = key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
            sig_alg = "sha256_ecdsa"
        elif isinstance(key, rsa.RSAPrivateKey):
            signature = key.sign(signed_attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
            sig_alg = "sha256_rsa"
        else:  # pragma: no cover - KeyStore only yields EC or RSA
            return _rejection("TSA key unsupported", "system_failure")
        sha256 = algos.DigestAlgorithm({"algorithm": "sha256"})
        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    {
                        "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                            {"issuer": self._cert.issuer, "serial_number": self._cert.serial_number}
                        )
                    }
                ),
                "digest_algorithm": sha256,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": sig_alg}),
                "signed_attrs": signed_attrs,
                "signature": signature,
            }
        )
        certs = [self._cert, *self._chain] if req["cert_req"].native else []
        signed_data = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": cms.DigestAlgorithms([sha256]),
                "encap_content_info": cms.EncapsulatedContentInfo(
                    {"content_type": "tst_info", "content": cms.ParsableOctetString(tst_info)}
                ),
                "certificates": certs,
                "signer_infos": [signer_info],
            }
        )
        token = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
        return tsp.TimeStampResp(
            {"status": tsp.PKIStatusInfo({"status": tsp.PKIStatus("granted")}), "time_stamp_token": token}
        )

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """pyHanko's entry point; signing is CPU-only, so it runs inline."""
        return self.request_tsa_response(req)


def http_timestamper(url: str, *, timeout: float = 10, auth: tuple[str, str] | None = None) -> TimeStamper:
    """A client for an external RFC 3161 TSA (``config: tsa_url``).

    A failing TSA makes signing raise :class:`~signing.errors.TimestampUnavailable`.

    :param url: the TSA's HTTP(S) endpoint.
    :param timeout: seconds before the request counts as failed.
    :param auth: optional HTTP basic credentials.
    """
    return HTTPTimeStamper(url, timeout=timeout, auth=auth)
