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

from . import der
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

    Everything in a token except the imprint, serial, time, nonce and signature is the same for
    every request, so it is encoded once here (:mod:`signing.der`); building a token through
    asn1crypto objects re-encoded the TSA's names and certificates each time (~12 ms a token).

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
        if isinstance(key, ec.EllipticCurvePrivateKey):
            sig_alg = "sha256_ecdsa"
        elif isinstance(key, rsa.RSAPrivateKey):
            sig_alg = "sha256_rsa"
        else:  # pragma: no cover - KeyStore only yields EC or RSA
            raise TypeError(type(key).__name__)
        cert_der = self._cert.dump()
        self._head = der.integer(1) + der.oid(TSA_POLICY_OID)
        self._accuracy = der.sequence(der.integer(1))  # seconds 1
        self._tsa_name = der.explicit(0, der.tlv(0xA4, self._cert.subject.dump()))  # directoryName
        self._attr_ct = der.sequence(der.oid(_OID_CONTENT_TYPE), der.set_of(der.oid(_OID_TST_INFO)))
        self._attr_cert = simple_cms_attribute(
            "signing_certificate_v2", as_signing_certificate_v2(self._cert)
        ).dump()
        self._sid = cms.IssuerAndSerialNumber(
            {"issuer": self._cert.issuer, "serial_number": self._cert.serial_number}
        ).dump()
        self._sha256 = algos.DigestAlgorithm({"algorithm": "sha256"}).dump()
        self._sig_alg = algos.SignedDigestAlgorithm({"algorithm": sig_alg}).dump()
        self._token_certs = der.set_of(cert_der, *(c.dump() for c in self._chain), tag=0xA0)

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
        nonce = req["nonce"]
        tst_info = der.sequence(
            self._head,
            imprint.dump(),
            der.integer(secrets.randbits(127)),
            der.generalized_time(now),
            self._accuracy,
            nonce.dump() if nonce.native is not None else b"",
            self._tsa_name,
        )
        attrs = (
            self._attr_ct,
            der.sequence(der.oid(_OID_SIGNING_TIME), der.set_of(der.utc_time(now))),
            der.sequence(
                der.oid(_OID_MESSAGE_DIGEST), der.set_of(der.octet_string(hashlib.sha256(tst_info).digest()))
            ),
            self._attr_cert,
        )
        to_sign = der.set_of(*attrs)  # signed as a universal SET (RFC 5652 §5.4)
        key = self._key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            signature = key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
        else:
            signature = key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())
        signer_info = der.signer_info(self._sid, self._sha256, attrs, self._sig_alg, signature)
        encap = der.sequence(der.oid(_OID_TST_INFO), der.explicit(0, der.octet_string(tst_info)))
        signed_data = der.sequence(
            der.integer(3),
            der.set_of(self._sha256),
            encap,
            self._token_certs if req["cert_req"].native else b"",
            der.set_of(signer_info),
        )
        token = der.sequence(der.oid(_OID_SIGNED_DATA), der.explicit(0, signed_data))
        return tsp.TimeStampResp.load(der.sequence(_GRANTED, token))

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """pyHanko's entry point; signing is CPU-only, so it runs inline."""
        return self.request_tsa_response(req)


_OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_OID_SIGNING_TIME = "1.2.840.113549.1.9.5"
_OID_TST_INFO = "1.2.840.113549.1.9.16.1.4"
_OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
_GRANTED = der.sequence(der.integer(0))  # PKIStatusInfo { status granted }


def http_timestamper(url: str, *, timeout: float = 10, auth: tuple[str, str] | None = None) -> TimeStamper:
    """A client for an external RFC 3161 TSA (``config: tsa_url``).

    A failing TSA makes signing raise :class:`~signing.errors.TimestampUnavailable`.

    :param url: the TSA's HTTP(S) endpoint.
    :param timeout: seconds before the request counts as failed.
    :param auth: optional HTTP basic credentials.
    """
    return HTTPTimeStamper(url, timeout=timeout, auth=auth)
