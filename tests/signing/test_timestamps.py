"""The built-in TSA answers RFC 3161 requests, over HTTP too."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from asn1crypto import core, tsp
from pyhanko.sign.timestamps.common_utils import handle_tsp_response

import signing as S

from .conftest import FIELDS, Signed, trust


@pytest.fixture()
def tsa_url(tsa: S.LocalTimeStamper) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            reply = tsa.respond(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/tsa"
    server.shutdown()
    thread.join()


def _status(raw: bytes) -> str:
    # a rejection carries no token; asn1crypto's TimeStampResp refuses to parse that
    return str(tsp.PKIStatusInfo.load(core.Sequence.load(raw)[0].dump())["status"].native)


class TestLocalTsa:
    def test_token_is_granted_and_echoes_nonce(self, tsa: S.LocalTimeStamper) -> None:
        nonce, req = tsa.request_cms(b"\x00" * 32, "sha256")
        resp = tsp.TimeStampResp.load(tsa.respond(req.dump()))
        token = handle_tsp_response(resp, nonce)
        info = token["content"]["encap_content_info"]["content"].parsed
        assert info["policy"].dotted == S.TSA_POLICY_OID
        assert (
            token["content"]["signer_infos"][0]["signature_algorithm"]["algorithm"].native == "sha256_ecdsa"
        )

    def test_garbage_request_gets_rejection(self, tsa: S.LocalTimeStamper) -> None:
        assert _status(tsa.respond(b"not a request")) == "rejection"

    def test_unsupported_digest_gets_rejection(self, tsa: S.LocalTimeStamper) -> None:
        _, req = tsa.request_cms(b"\x00" * 20, "sha1")
        assert _status(tsa.respond(req.dump())) == "rejection"


class TestHttpTsa:
    def test_sign_through_http_tsa_validates(
        self, tsa_url: str, signed: Signed, sample_pdf: bytes, pki: S.Pki
    ) -> None:
        pdf = S.sign_pdf(sample_pdf, signed.signers[0], FIELDS[0], timestamper=S.http_timestamper(tsa_url))
        status = S.validate_pdf(pdf, trust(pki))
        assert len(status.signatures) == 1 and status.signatures[0].ok, status.signatures[0].problem


class TestFieldPlan:
    def test_locks_follow_signing_order(self) -> None:
        from pyhanko.sign.fields import FieldMDPAction, MDPPerm

        plan = S.field_plan(FIELDS)
        assert plan[0].field_mdp_spec.action == FieldMDPAction.EXCLUDE  # type: ignore[union-attr]
        assert plan[0].field_mdp_spec.fields == ["party_b", "party_c"]  # type: ignore[union-attr]
        assert plan[1].field_mdp_spec.fields == ["party_c"]  # type: ignore[union-attr]
        assert plan[2].field_mdp_spec.action == FieldMDPAction.ALL  # type: ignore[union-attr]
        assert plan[2].doc_mdp_update_value == MDPPerm.NO_CHANGES
        assert [p.doc_mdp_update_value for p in plan[:2]] == [None, None]

    def test_bad_specs_refused(self) -> None:
        with pytest.raises(S.SigningError):
            S.FieldSpec("a.b", 0, (0, 0, 10, 10))
        with pytest.raises(S.SigningError):
            S.FieldSpec("a", 0, (10, 0, 0, 10))
        with pytest.raises(S.SigningError):
            S.field_plan([FIELDS[0], FIELDS[0]])
