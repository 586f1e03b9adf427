"""A corpus of forged and altered PDFs, each made from a genuine signed document of ours.

Every forgery changes one thing about a genuine file and names the check that must catch it
(``expect``), so a test cannot pass because some other check happened to fail. Forgeries that
need a signature re-sign the document from its rendered PDF with the genuine parties' keys except
where the attack says otherwise (an attacker's certificate, another party's, a revoked one…):
the only difference from the genuine file is then the one under test.

Made with pyHanko's own writer (incremental updates, signing) and byte edits that keep every
offset in place, as an attacker with a hex editor would.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields as ph_fields
from pyhanko.sign import signers

from doc_templates.kinds import get_kind
from service.pki.fields import field_name, fields_for, role_label
from signing import (
    FieldSpec,
    LocalTimeStamper,
    Pki,
    SignerSpec,
    SigningError,
    StampFonts,
    StampSpec,
    TimeStamper,
    TrustSpec,
    finish_lta,
    sign_pdf,
)
from tests.verification.corpus import Corpus, Genuine

MULTI = ("agreement", "appraisal", "evaluation")
ALL = ("notice", "agreement", "appraisal", "evaluation", "certificate")


@dataclass(frozen=True)
class Kit:
    """What a forger in the tests has at hand."""

    corpus: Corpus
    kind: str
    pki: Pki
    tsa: TimeStamper
    fonts: StampFonts
    trust: TrustSpec

    @property
    def genuine(self) -> Genuine:
        return self.corpus.genuine[self.kind]

    @property
    def parties(self) -> tuple[str, ...]:
        return get_kind(self.kind).parties


@dataclass(frozen=True)
class Forgery:
    id: str
    expect: str
    """The check code that must fail."""
    make: Callable[[Kit], bytes]
    kinds: tuple[str, ...] = ALL
    what: str = ""


# ---------------------------------------------------------------------------------------------
# Tools


def _reader(pdf: bytes) -> PdfFileReader:
    return PdfFileReader(io.BytesIO(pdf), strict=False)


def _update(pdf: bytes, change: Callable[[IncrementalPdfFileWriter], None]) -> bytes:
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    change(w)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _last_signature(pdf: bytes) -> tuple[generic.Reference, list[int]]:
    """The newest approval signature's object reference and ByteRange."""
    emb = _reader(pdf).embedded_regular_signatures[-1]
    ref = emb.sig_field.raw_get("/V").reference
    return ref, [int(v) for v in emb.byte_range]


def _obj_span(pdf: bytes, ref: generic.Reference) -> tuple[int, int]:
    start = _reader(pdf).xrefs[ref]
    assert isinstance(start, int)
    return start, pdf.index(b"endobj", start)


def _edit_last_signature(pdf: bytes, old: bytes, new: bytes) -> bytes:
    """Replace ``old`` by ``new`` (same length) inside the newest signature's dictionary."""
    assert len(old) == len(new)
    ref, _ = _last_signature(pdf)
    start, end = _obj_span(pdf, ref)
    pos = pdf.index(old, start, end)
    return pdf[:pos] + new + pdf[pos + len(old) :]


def _last_cms(pdf: bytes) -> tuple[cms.ContentInfo, tuple[int, int]]:
    """The newest approval signature's CMS, and the ByteRange gap ``(b, c)`` its hex string fills."""
    _, (_, b, c, _) = _last_signature(pdf)
    return cms.ContentInfo.load(bytes.fromhex(pdf[b + 1 : c - 1].decode())), (b, c)  # padding ignored


def _with_cms(pdf: bytes, gap: tuple[int, int], der: bytes) -> bytes:
    """``pdf`` with the signature value in the ByteRange gap replaced by ``der``, zero-padded in place."""
    b, c = gap
    hexed = der.hex().encode()
    assert len(hexed) <= c - b - 2
    return pdf[: b + 1] + hexed.ljust(c - b - 2, b"0") + pdf[c - 1 :]


def _forged_page(w: BasePdfFileWriter) -> generic.DictionaryObject:
    """An A4 page of the forger's own (a blue square), its content stream added to ``w``."""
    return generic.DictionaryObject(
        {pdf_name("/Type"): pdf_name("/Page"),
         pdf_name("/MediaBox"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 595, 842)]),
         pdf_name("/Contents"): w.add_object(generic.StreamObject(stream_data=b"0 0 1 rg 72 72 200 200 re f")),
         pdf_name("/Resources"): generic.DictionaryObject()}
    )  # fmt: skip


def _state_before(g: Genuine, party: str) -> bytes:
    """The archived state just before ``party`` signed (the rendered PDF for the first party)."""
    reasons = [r for r, _ in g.states]
    i = reasons.index(f"signed:{party}")
    return g.states[i - 1][1]


def _cn(spec: SignerSpec) -> str:
    return str(spec.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def finish(kit: Kit, pdf: bytes, extra_roots: tuple[x509.Certificate, ...] = ()) -> bytes:
    """B-LTA as genuine completion does; with forged chains, validation data as far as it goes."""
    try:
        return finish_lta(pdf, kit.trust, timestamper=kit.tsa)
    except SigningError:
        lenient = TrustSpec(
            roots=(*kit.trust.roots, *extra_roots),
            intermediates=kit.trust.intermediates,
            require_revocation_info=False,
        )
        try:
            return finish_lta(pdf, lenient, timestamper=kit.tsa)
        except SigningError:  # e.g. an expired signer: a bare document timestamp then
            out = io.BytesIO()
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
            signers.PdfTimeStamper(kit.tsa).timestamp_pdf(writer, "sha256", output=out)
            return out.getvalue()


def resign(
    kit: Kit,
    signers: dict[str, SignerSpec] | None = None,
    *,
    fields: dict[str, str] | None = None,
    rendered: bytes | None = None,
    base: Genuine | None = None,
    after_first: Callable[[bytes], bytes] | None = None,
    extra_roots: tuple[x509.Certificate, ...] = (),
    timestampers: dict[str, TimeStamper] | None = None,
) -> bytes:
    """The document signed again from its rendered PDF, every party in order, then B-LTA.

    :param signers: party → who signs in its place (default: the genuine party).
    :param fields: party → whose field it signs (default: its own).
    :param timestampers: party → whose TSA stamps its signature (default: ours).
    :param rendered: start from these bytes instead of the archived rendered PDF.
    :param after_first: an edit made between the first and the second signature.
    """
    g = base or kit.genuine
    kind = get_kind(g.kind)
    by_party = {f.name: f for f in fields_for(kind, g.rendered)}
    order = [by_party[field_name(p)] for p in kind.parties]
    pdf = rendered if rendered is not None else g.rendered
    for i, party in enumerate(kind.parties):
        spec = (signers or {}).get(party) or g.signers[party]
        target = by_party[field_name((fields or {}).get(party, party))]
        pdf = sign_pdf(
            pdf,
            spec,
            target,
            timestamper=(timestampers or {}).get(party) or kit.tsa,
            certify=i == 0,
            later_fields=[f for f in order if f.name != target.name] if i == 0 else (),
            stamp=StampSpec(role=role_label(kind, party), signer_name=_cn(spec)),
            fonts=kit.fonts,
        )
        if i == 0 and after_first is not None:
            pdf = after_first(pdf)
    return finish(kit, pdf, extra_roots)


def _leaf(
    subject: x509.Name,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool = False,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> x509.Certificate:
    now = datetime.now(UTC)
    usage = (
        x509.KeyUsage(False, False, False, False, False, True, True, False, False)
        if ca
        else x509.KeyUsage(True, True, False, False, False, False, False, False, False)
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(minutes=5))
        .not_valid_after(not_after or now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
        .sign(issuer_key, hashes.SHA256())
    )


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def attacker_ca_signer(kit: Kit, impersonate: SignerSpec) -> tuple[SignerSpec, x509.Certificate]:
    """An attacker's root and issuing CA carrying *our* CAs' names, and a leaf with the party's name."""
    root_key, issuing_key, leaf_key = _key(), _key(), _key()
    root_name, issuing_name = kit.pki.root_cert.subject, kit.pki.issuing_cert.subject
    root = _leaf(root_name, root_name, root_key, root_key, ca=True)
    issuing = _leaf(issuing_name, root_name, root_key, issuing_key, ca=True)
    leaf = _leaf(impersonate.cert.subject, issuing_name, issuing_key, leaf_key)
    return SignerSpec(key=leaf_key, cert=leaf, chain=(issuing, root)), root


def self_signed_signer(impersonate: SignerSpec) -> SignerSpec:
    key = _key()
    return SignerSpec(key=key, cert=_leaf(impersonate.cert.subject, impersonate.cert.subject, key, key))


def expired_signer(kit: Kit, impersonate: SignerSpec) -> SignerSpec:
    """A certificate from *our* issuing CA with the party's name, expired a month before signing."""
    key = _key()
    now = datetime.now(UTC)
    cert = _leaf(
        impersonate.cert.subject,
        kit.pki.issuing_cert.subject,
        kit.pki.keys.load(Pki.ISSUING_KEY),  # type: ignore[arg-type]
        key,
        not_before=now - timedelta(days=400),
        not_after=now - timedelta(days=30),
    )
    return SignerSpec(key=key, cert=cert, chain=(kit.pki.issuing_cert,))


def _flip(pdf: bytes, pos: int) -> bytes:
    return pdf[:pos] + bytes([pdf[pos] ^ 0x01]) + pdf[pos + 1 :]


def _touch_widget(pdf: bytes, name: str) -> bytes:
    """Paint a fake stamp into the (unsigned) signature field ``name``'s widget."""

    def change(w: IncrementalPdfFileWriter) -> None:
        ((_, _, ref),) = list(ph_fields.enumerate_sig_fields(w, with_name=name))
        widget = ref.get_object()
        x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
        ap = generic.StreamObject(
            {pdf_name("/BBox"): generic.ArrayObject([generic.FloatObject(v) for v in (0, 0, x2 - x1, y2 - y1)]),
             pdf_name("/Subtype"): pdf_name("/Form"), pdf_name("/Type"): pdf_name("/XObject")},
            stream_data=b"q 0.8 0 0 rg 2 2 100 30 re f Q",
        )  # fmt: skip
        widget[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): w.add_object(ap)})
        w.update_container(widget)

    return _update(pdf, change)


def _overlay(kit: Kit, pdf: bytes, stream: bytes) -> bytes:
    def change(w: IncrementalPdfFileWriter) -> None:
        w.add_stream_to_page(0, w.add_object(generic.StreamObject(stream_data=stream)))

    return _update(pdf, change)


# ---------------------------------------------------------------------------------------------
# The forgeries


def flip_signed_byte(kit: Kit) -> bytes:
    pdf = kit.genuine.pdf
    rendered_len = len(kit.genuine.rendered)
    start = pdf.index(b"stream", pdf.index(b"/Length")) + 8
    assert start + 40 < rendered_len
    return _flip(pdf, start + 30)


def flip_signature_value(kit: Kit) -> bytes:
    pdf = kit.genuine.pdf
    emb = _reader(pdf).embedded_regular_signatures[-1]
    value = emb.signer_info["signature"].native
    for hexed in (value.hex().encode(), value.hex().upper().encode()):
        pos = pdf.find(hexed)
        if pos >= 0:
            mid = pos + len(hexed) // 2
            swapped = b"1" if pdf[mid : mid + 1] != b"1" else b"2"
            return pdf[:mid] + swapped + pdf[mid + 1 :]
    raise AssertionError("signature value not found in the file")


def page_content_replaced(kit: Kit) -> bytes:
    def change(w: IncrementalPdfFileWriter) -> None:
        page_ref, _ = w.find_page_for_modification(0)
        page = page_ref.get_object()
        page[pdf_name("/Contents")] = w.add_object(
            generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 720 Td (FORGED) Tj ET")
        )
        w.update_container(page)

    return _update(kit.genuine.pdf, change)


def page_added(kit: Kit) -> bytes:
    def change(w: IncrementalPdfFileWriter) -> None:
        w.insert_page(_forged_page(w))

    return _update(kit.genuine.pdf, change)


def overlay(kit: Kit) -> bytes:
    # A white box over the top of the first page, as one would hide a line and write another.
    return _overlay(kit, kit.genuine.pdf, b"q 1 1 1 rg 60 700 480 60 re f Q")


def annotation_added(kit: Kit) -> bytes:
    def change(w: IncrementalPdfFileWriter) -> None:
        page_ref, _ = w.find_page_for_modification(0)
        annot = generic.DictionaryObject(
            {pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/FreeText"),
             pdf_name("/Rect"): generic.ArrayObject([generic.NumberObject(v) for v in (100, 600, 400, 640)]),
             pdf_name("/Contents"): generic.TextStringObject("服务期满，考核优秀"),
             pdf_name("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g")}
        )  # fmt: skip
        w.register_annotation(page_ref, w.add_object(annot))

    return _update(kit.genuine.pdf, change)


def javascript_added(kit: Kit) -> bytes:
    def change(w: IncrementalPdfFileWriter) -> None:
        action = generic.DictionaryObject(
            {pdf_name("/S"): pdf_name("/JavaScript"),
             pdf_name("/JS"): generic.TextStringObject("app.alert('验证通过');")}
        )  # fmt: skip
        w.root[pdf_name("/OpenAction")] = w.add_object(action)
        w.update_root()

    return _update(kit.genuine.pdf, change)


def signature_field_added(kit: Kit) -> bytes:
    def change(w: IncrementalPdfFileWriter) -> None:
        ph_fields.append_signature_field(
            w, ph_fields.SigFieldSpec("sig_extra", on_page=0, box=(20, 20, 170, 74))
        )

    return _update(kit.genuine.pdf, change)


def extra_field_signed(kit: Kit) -> bytes:
    """A genuine party signs one more field of its own making after everything was finished."""
    spec = kit.genuine.signers[kit.parties[0]]
    with_field = signature_field_added(kit)
    return sign_pdf(with_field, spec, FieldSpec("sig_extra", 0, (20, 20, 170, 74)), timestamper=kit.tsa)


def byte_range_missing(kit: Kit) -> bytes:
    return _edit_last_signature(kit.genuine.pdf, b"/ByteRange", b"/ByteRangX")


def byte_range_empty(kit: Kit) -> bytes:
    pdf = kit.genuine.pdf
    ref, _ = _last_signature(pdf)
    start, end = _obj_span(pdf, ref)
    m = re.compile(rb"/ByteRange\s*\[[^\]]*\]").search(pdf, start, end)
    assert m is not None
    new = b"/ByteRange []".ljust(len(m.group(0)), b" ")
    return pdf[: m.start()] + new + pdf[m.end() :]


def _rewrite_byte_range(pdf: bytes, values: list[int]) -> bytes:
    ref, _ = _last_signature(pdf)
    start, end = _obj_span(pdf, ref)
    m = re.compile(rb"/ByteRange\s*\[[^\]]*\]").search(pdf, start, end)
    assert m is not None
    new = b"/ByteRange [" + b" ".join(str(v).encode() for v in values) + b"]"
    assert len(new) <= len(m.group(0)), (new, m.group(0))
    return pdf[: m.start()] + new.ljust(len(m.group(0)), b" ") + pdf[m.end() :]


def byte_range_partial(kit: Kit) -> bytes:
    """The signature claims to cover less than its revision: the rest could say anything."""
    pdf = kit.genuine.pdf
    _, (a, b, c, d) = _last_signature(pdf)
    return _rewrite_byte_range(pdf, [a, b, c, d - 200])


def byte_range_shifted(kit: Kit) -> bytes:
    """Signature wrapping: the gap no longer is the /Contents string but swallows bytes after it."""
    pdf = kit.genuine.pdf
    _, (a, b, c, d) = _last_signature(pdf)
    # The rewrite must fit the original text: pick a shift that keeps every number's digit count.
    shift = next(k for k in (64, -64, 32, -32, 16, -16) if len(f"{c + k} {d - k}") == len(f"{c} {d}"))
    return _rewrite_byte_range(pdf, [a, b, c + shift, d - shift])


def contents_missing(kit: Kit) -> bytes:
    return _edit_last_signature(kit.genuine.pdf, b"/Contents", b"/Contentz")


def contents_empty(kit: Kit) -> bytes:
    pdf = kit.genuine.pdf
    _, (_, b, c, _) = _last_signature(pdf)
    return pdf[: b + 1] + b"0" * (c - b - 2) + pdf[c - 1 :]


def appended_after_eof(kit: Kit) -> bytes:
    return kit.genuine.pdf + b"999 0 obj\n<< /Type /Annot /Subtype /Text /Contents (forged) >>\nendobj\n"


def xref_lists_object_twice(kit: Kit) -> bytes:
    """A hand-written update whose xref table lists the page's content twice: forged, then genuine.

    Readers disagree on which entry of a duplicated number wins. pyHanko keeps the last, so it
    sees the signed object again and finds nothing changed. poppler keeps the first and shows the
    forged page.
    """
    pdf = kit.genuine.pdf
    reader = _reader(pdf)
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    content = page.raw_get("/Contents")
    if isinstance(content, generic.ArrayObject):
        content = content[0]
    genuine_at = reader.xrefs[content.reference]
    assert isinstance(genuine_at, int)
    body = content.get_object().data + b"\nq 1 0 0 rg 0 0 595 842 re f Q\n"
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    forged_at = len(out)
    n = content.idnum
    out += b"%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (n, len(body), body)
    xref_at = len(out)
    trailer = reader.trailer
    root, info = trailer.raw_get("/Root"), trailer.raw_get("/Info")
    ids = b"".join(b"<" + i.original_bytes.hex().encode() + b">" for i in trailer["/ID"])
    prev = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    out += b"xref\n%d 1\n%010d 00000 n \n%d 1\n%010d 00000 n \n" % (n, forged_at, n, genuine_at)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [%s] /Prev %d >>\n" % (
        int(trailer["/Size"]),
        root.idnum,
        info.idnum,
        ids,
        prev,
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def cms_rewritten_without_keys(kit: Kit) -> bytes:
    """No key needed: cut back to the last signature, rewrite its CMS where the signature does not
    reach (here: the SignedData's digestAlgorithms emptied), finish again with our public TSA.

    Contents and signers are unchanged and every signature still verifies; only the archive can
    tell that the bytes are not the ones issued.
    """
    cut = truncated_before_doc_timestamp(kit)
    info, gap = _last_cms(cut)
    info["content"]["digest_algorithms"] = cms.DigestAlgorithms([])
    return finish(kit, _with_cms(cut, gap, info.dump()))


def signer_certificate_removed(kit: Kit) -> bytes:
    """No key needed: the last signature's CMS loses its signer's certificate, so the signature no
    longer says who signed. The bytes stay where they were; the document timestamp breaks too."""
    info, gap = _last_cms(kit.genuine.pdf)
    signed = info["content"]
    serial = signed["signer_infos"][0]["sid"].chosen["serial_number"].native
    kept = [cert for cert in signed["certificates"] if cert.chosen.serial_number != serial]
    assert len(kept) < len(signed["certificates"])
    signed["certificates"] = cms.CertificateSet(kept)
    return _with_cms(kit.genuine.pdf, gap, info.dump())


def truncated_before_doc_timestamp(kit: Kit) -> bytes:
    """Cut back to the end of the last signature's revision (no document timestamp)."""
    pdf = kit.genuine.pdf
    _, (_, _, c, d) = _last_signature(pdf)
    return pdf[: c + d]


def truncated_before_last_party(kit: Kit) -> bytes:
    return _state_before(kit.genuine, kit.parties[-1])


def attacker_ca(kit: Kit) -> bytes:
    party = kit.parties[-1]
    spec, root = attacker_ca_signer(kit, kit.genuine.signers[party])
    return resign(kit, {party: spec}, extra_roots=(root,))


def self_signed(kit: Kit) -> bytes:
    party = kit.parties[-1]
    spec = self_signed_signer(kit.genuine.signers[party])
    return resign(kit, {party: spec}, extra_roots=(spec.cert,))


def expired(kit: Kit) -> bytes:
    party = kit.parties[-1]
    return resign(kit, {party: expired_signer(kit, kit.genuine.signers[party])})


def wrong_party(kit: Kit) -> bytes:
    """The last party's field signed with another party's genuine certificate."""
    last = kit.parties[-1]
    other = next(
        p for p in ("county_office", "unit", "region_office") if p != last and p in kit.corpus.signers
    )
    return resign(kit, {last: kit.corpus.signers[other]})


def wrong_person(kit: Kit) -> bytes:
    """The volunteer's field signed with another volunteer's genuine certificate."""
    return resign(kit, {"volunteer": kit.corpus.other_volunteer})


def swapped_roles(kit: Kit) -> bytes:
    """The first two parties each sign the other's field (the order of fields stays the kind's)."""
    first, second = kit.parties[0], kit.parties[1]
    return resign(kit, fields={first: second, second: first})


def copied_signature(kit: Kit) -> bytes:
    """The first signature's CMS replaced by the same party's signature on another document."""
    party = kit.parties[0]
    source = next(
        g
        for g in (kit.corpus.other_agreement, kit.corpus.revoked_notice, kit.corpus.reissued_certificate,
                  *kit.corpus.genuine.values())
        if g.document_id != kit.genuine.document_id and party in g.signers
        and g.signers[party].cert == kit.genuine.signers[party].cert
    )  # fmt: skip
    other = next(
        e for e in _reader(source.pdf).embedded_regular_signatures if e.field_name == field_name(party)
    )
    pdf = kit.genuine.pdf
    mine = next(e for e in _reader(pdf).embedded_regular_signatures if e.field_name == field_name(party))
    _, b, c, _ = (int(v) for v in mine.byte_range)
    return _with_cms(pdf, (b, c), cms.ContentInfo.load(other.pkcs7_content).dump())  # padding ignored


def revoked_signer(kit: Kit) -> bytes:
    """A party's field signed, after revocation, with a key whose certificate was revoked."""
    if kit.kind == "agreement":  # the registered unit of this agreement is the revoked one
        base = kit.corpus.revoked_unit_agreement
        return resign(kit, {"unit": kit.corpus.revoked_unit}, base=base)
    party = "unit" if "unit" in kit.parties else kit.parties[-1]
    return resign(kit, {party: kit.corpus.revoked_unit})


def revoked_signer_backdated(kit: Kit) -> bytes:
    """The revoked key again, its signature timestamped by the forger's own TSA a second before
    the revocation. That token proves no time, so the certificate must be judged as of now."""
    revoked_at = kit.corpus.revoked_at
    when = (revoked_at if revoked_at.tzinfo else revoked_at.replace(tzinfo=UTC)) - timedelta(seconds=1)
    key = _key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "时间戳服务")])
    tsa = LocalTimeStamper(
        key, _leaf(name, name, key, key, not_before=when - timedelta(days=1)), clock=lambda: when
    )
    if kit.kind == "agreement":
        base = kit.corpus.revoked_unit_agreement
        return resign(kit, {"unit": kit.corpus.revoked_unit}, base=base, timestampers={"unit": tsa})
    party = "unit" if "unit" in kit.parties else kit.parties[-1]
    return resign(kit, {party: kit.corpus.revoked_unit}, timestampers={party: tsa})


def unknown_subfilter(kit: Kit) -> bytes:
    return _edit_last_signature(kit.genuine.pdf, b"/ETSI.CAdES.detached", b"/ETSI.CAdES.detacheX")


def unknown_filter(kit: Kit) -> bytes:
    return _edit_last_signature(kit.genuine.pdf, b"/Adobe.PPKLite", b"/Adobe.PPKLitX")


def unlocked_field_filled(kit: Kit) -> bytes:
    """After the first party signed, the still unlocked last field gets a painted "signature"."""
    state = _state_before(kit.genuine, kit.parties[1])
    return _touch_widget(state, field_name(kit.parties[-1]))


def _set_info(pdf: bytes) -> bytes:
    def change(w: IncrementalPdfFileWriter) -> None:
        w.set_info(
            generic.DictionaryObject({pdf_name("/Title"): generic.TextStringObject("服务证书（已更正）")})
        )

    return _update(pdf, change)


def revision_between_signatures(kit: Kit) -> bytes:
    """A revision of its own between two signatures (here new document info, which pyHanko lets
    pass as a "validation data" level change), and the later parties sign on top of it."""
    return resign(kit, after_first=_set_info)


def info_changed(kit: Kit) -> bytes:
    """The document info (title shown by viewers) rewritten after the document was finished."""
    return _set_info(kit.genuine.pdf)


_XMP = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    b'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">FORGED</rdf:li></rdf:Alt></dc:title>'
    b'</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


def metadata_changed(kit: Kit) -> bytes:
    """New XMP metadata after the document was finished."""

    def change(w: IncrementalPdfFileWriter) -> None:
        stream = generic.StreamObject(
            {pdf_name("/Type"): pdf_name("/Metadata"), pdf_name("/Subtype"): pdf_name("/XML")},
            stream_data=_XMP,
        )
        w.root[pdf_name("/Metadata")] = w.add_object(stream)
        w.update_root()
        # pyHanko would replace our packet with its own on writing; a forger's tool need not.
        w._update_meta = lambda: None  # type: ignore[method-assign]

    return _update(kit.genuine.pdf, change)


def altered_then_signed(kit: Kit) -> bytes:
    """The rendered PDF altered (one byte in a content stream), then signed by the genuine parties."""
    rendered = kit.genuine.rendered
    start = rendered.index(b"stream", rendered.index(b"/Length")) + 8
    return resign(kit, rendered=_flip(rendered, start + 30))


def unregistered_revision_before_signing(kit: Kit) -> bytes:
    """An incremental update to the rendered PDF before anyone signs (the signers sign the change)."""
    return resign(kit, rendered=_overlay(kit, kit.genuine.rendered, b"q 1 1 1 rg 60 700 480 60 re f Q"))


def unregistered_document(kit: Kit) -> bytes:
    """A page of the forger's own, signed in the party's field by the party's genuine key."""
    from pyhanko.pdf_utils.writer import PdfFileWriter

    w = PdfFileWriter()
    w.insert_page(_forged_page(w))
    blank = io.BytesIO()
    w.write(blank)
    party = kit.parties[0]
    signed = sign_pdf(
        blank.getvalue(), kit.genuine.signers[party], FieldSpec(field_name(party), 0, (60, 60, 210, 114)),
        timestamper=kit.tsa,
    )  # fmt: skip
    return finish(kit, signed)


def revoked_document(kit: Kit) -> bytes:
    return kit.corpus.revoked_notice.pdf


def superseded_document(kit: Kit) -> bytes:
    return kit.corpus.superseded_certificate.pdf


FORGERIES: list[Forgery] = [
    Forgery("flip_signed_byte", "integrity", flip_signed_byte, what="签名范围内改动一个字节"),
    Forgery("flip_signature_value", "integrity", flip_signature_value, what="签名值改动一个字节"),
    Forgery("page_content_replaced", "modifications", page_content_replaced, what="增量更新替换页面内容"),
    Forgery("page_added", "modifications", page_added, what="增量更新增加一页"),
    Forgery("overlay", "modifications", overlay, what="增量更新覆盖一层内容"),
    Forgery("annotation_added", "modifications", annotation_added, what="增量更新增加注释"),
    Forgery("javascript_added", "modifications", javascript_added, what="增量更新加入JavaScript"),
    Forgery("signature_field_added", "fields", signature_field_added, what="增量更新增加签名域"),
    Forgery("extra_field_signed", "fields", extra_field_signed, MULTI, what="真实签署方额外签一个新签名域"),
    Forgery("byte_range_missing", "byte_range", byte_range_missing, what="ByteRange缺失"),
    Forgery("byte_range_empty", "byte_range", byte_range_empty, what="ByteRange为空"),
    Forgery("byte_range_partial", "byte_range", byte_range_partial, what="ByteRange只覆盖部分"),
    Forgery("byte_range_shifted", "byte_range", byte_range_shifted, what="ByteRange移位（签名包装）"),
    Forgery("contents_missing", "signature_format", contents_missing, what="Contents缺失"),
    Forgery("contents_empty", "signature_format", contents_empty, what="Contents清空"),
    Forgery("appended_after_eof", "trailing_data", appended_after_eof, what="%%EOF之后追加对象"),
    Forgery(
        "signer_certificate_removed",
        "binding",
        signer_certificate_removed,
        what="删去签名数据中的签名证书（无法确定签署人）",
    ),
    Forgery(
        "cms_rewritten_without_keys",
        "archived_revisions",
        cms_rewritten_without_keys,
        what="无需密钥改写签名数据的未签部分，再用本平台时间戳重新完成",
    ),
    Forgery(
        "xref_lists_object_twice",
        "modifications",
        xref_lists_object_twice,
        what="交叉引用表两次登记同一对象（阅读器与验证器看到不同内容）",
    ),
    Forgery(
        "truncated_before_doc_timestamp",
        "complete",
        truncated_before_doc_timestamp,
        what="截回文档时间戳之前",
    ),
    Forgery(
        "truncated_before_last_party",
        "complete",
        truncated_before_last_party,
        MULTI,
        what="截回最后一方签署之前",
    ),
    Forgery("attacker_ca", "chain", attacker_ca, what="攻击者自建同名CA签发的证书"),
    Forgery("self_signed", "chain", self_signed, what="自签名证书"),
    Forgery("expired_signer", "chain", expired, what="签名时已过期的证书"),
    Forgery("wrong_party", "binding", wrong_party, what="另一签署方的真实证书"),
    Forgery("wrong_person", "binding", wrong_person, MULTI, what="另一志愿者的真实证书"),
    Forgery("swapped_roles", "binding", swapped_roles, MULTI, what="两方互换签名域"),
    Forgery("copied_signature", "integrity", copied_signature, what="从另一文书复制的签名"),
    Forgery("revoked_signer", "revocation", revoked_signer, what="证书吊销后用其私钥签署"),
    Forgery(
        "revoked_signer_backdated",
        "revocation",
        revoked_signer_backdated,
        what="证书吊销后用其私钥签署，并用自建时间戳服务把签名时间倒签到吊销之前",
    ),
    Forgery("unknown_subfilter", "signature_format", unknown_subfilter, what="未知SubFilter"),
    Forgery("unknown_filter", "signature_format", unknown_filter, what="未知Filter"),
    Forgery(
        "unlocked_field_filled",
        "modifications",
        unlocked_field_filled,
        MULTI,
        what="签名后填写未锁定的签名域外观",
    ),
    Forgery(
        "revision_between_signatures",
        "modifications",
        revision_between_signatures,
        MULTI,
        what="两次签名之间夹带修改",
    ),
    Forgery("info_changed", "modifications", info_changed, what="签署完成后改写文档信息"),
    Forgery("metadata_changed", "modifications", metadata_changed, what="签署完成后改写XMP元数据"),
    Forgery("altered_then_signed", "first_revision", altered_then_signed, what="原件被改动后再签署"),
    Forgery(
        "unregistered_revision_before_signing",
        "first_revision",
        unregistered_revision_before_signing,
        what="签署前增加未登记的版本",
    ),
    Forgery("unregistered_document", "registry", unregistered_document, what="真实密钥签署的未登记文件"),
    Forgery("revoked_document", "status", revoked_document, ("notice",), what="已撤销的文书"),
    Forgery("superseded_document", "status", superseded_document, ("certificate",), what="已被替代的文书"),
]


def cases() -> list[tuple[Forgery, str]]:
    return [(f, kind) for f in FORGERIES for kind in f.kinds]


_ = cms  # keeps asn1crypto's CMS parsers registered for pkcs7_content access
