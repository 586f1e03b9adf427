"""Strict verification of a signed PDF: pyHanko's checks, and the ones a forger gets past it.

:func:`signing.validate.validate_pdf` reports what pyHanko finds per signature. That is not
enough to tell a genuine document from a forgery (field notes): pyHanko skips signatures whose
SubFilter it does not know, accepts form fields filled after signing while they were unlocked,
ignores bytes after the last ``%%EOF``, cannot know that a file was cut back to an earlier
revision, and calls a signature made with *some* trusted certificate valid whoever it belongs to.
This module adds, on the bytes alone (no database):

* structure: nothing after the final ``%%EOF`` but one end-of-line; every ``/ByteRange`` is four
  integers from 0 whose gap is exactly that signature's ``/Contents`` hex string and which ends
  where the signature's revision ends; every filled signature field parses, with the one
  Filter/SubFilter pair we sign with (never silently skipped);
* revisions: the unsigned revision(s), then exactly one revision per signature, then only
  document timestamps and validation data (pyHanko's difference analysis, held stricter than
  its own levels: after a signature only later *signature* fields may change, and after the last
  one the document info and XMP metadata must still say what they said when it was signed);
* the expected layout (from the registry): exactly the kind's signature fields, each signed by
  a certificate registered for its party, in the kind's order, with non-decreasing times; as
  many signatures as the registry recorded, and all of them when it says the document is complete;
* time: each signer certificate is validated *at its signature's timestamp* (point in time),
  so a certificate revoked or expired after signing leaves the signature valid and one revoked
  or expired before signing does not.

Each signature is validated once, the file is parsed once, and one validation context serves
every timestamp (signer contexts differ only by their moment). The caller gets a list of
:class:`Check` results, each with a Chinese reason, and a :class:`Verdict`: 有效 only when every
check passed, 无法验证 when the file could not be read at all, else 无效.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.xref import (
    XRefEntry,
    XRefSectionType,
    XRefType,
    parse_xref_stream,
    parse_xref_table,
    read_object_header,
)
from pyhanko.sign.diff_analysis import (
    CatalogModificationRule,
    DiffResult,
    DocInfoRule,
    DSSCompareRule,
    FormUpdatingRule,
    MetadataUpdateRule,
    ModificationLevel,
    ObjectStreamRule,
    SigFieldCreationRule,
    SigFieldModificationRule,
    StandardDiffPolicy,
    XrefStreamRule,
)
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext

from .validate import TrustSpec

__all__ = [
    "CHECKS",
    "Check",
    "ExpectedField",
    "ExpectedLayout",
    "ParsedPdf",
    "PdfVerification",
    "SignatureInfo",
    "Unreadable",
    "Verdict",
    "parse_pdf",
    "verify_parsed",
    "verify_pdf",
]

log = logging.getLogger(__name__)


class Verdict(StrEnum):
    VALID = "有效"
    INVALID = "无效"
    UNVERIFIABLE = "无法验证"


#: Every check this module reports, in report order: code → title (Chinese).
CHECKS: dict[str, str] = {
    "readable": "文件可以解析",
    "trailing_data": "文件结尾之后没有附加数据",
    "signature_format": "签名格式均可识别",
    "byte_range": "签名覆盖范围完整",
    "integrity": "签名完整且密码学有效",
    "chain": "签名证书链可追溯至本平台根证书",
    "revocation": "签名时证书未被吊销",
    "timestamp": "签名时间戳存在且可信",
    "modifications": "签名后没有不允许的修改",
    "fields": "签名域与文书类型一致",
    "binding": "各签名域由登记的签署方证书签署",
    "order": "签署顺序正确",
    "complete": "签署完整，未被截回早先版本",
}

_SIG_FILTER = "/Adobe.PPKLite"
#: What may follow the last party's signature: validation data (DSS) and document timestamps.
#: pyHanko's default policy also passes changes to non-signature form fields there; we have none,
#: so none may change. It also passes any rewrite of the document info and XMP metadata: pyHanko
#: rewrites both itself on every incremental update (modification date, producer), so rewrites
#: stay allowed here and :func:`_metadata_problems` holds their *content* to what it was.
_AFTER_COMPLETION = StandardDiffPolicy(
    global_rules=[
        CatalogModificationRule(),
        DocInfoRule().as_qualified(ModificationLevel.LTA_UPDATES),
        XrefStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        ObjectStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        DSSCompareRule().as_qualified(ModificationLevel.LTA_UPDATES),
        MetadataUpdateRule().as_qualified(ModificationLevel.LTA_UPDATES),
    ],
    form_rule=FormUpdatingRule(field_rules=[SigFieldCreationRule(), SigFieldModificationRule()]),
)
#: Metadata entries pyHanko itself rewrites on every update; everything else must stay as signed.
_VOLATILE_INFO = frozenset({"/ModDate", "/Producer"})
_VOLATILE_XMP = frozenset({"ModifyDate", "MetadataDate", "Producer", "InstanceID", "xmptk", "about"})
_SUBFILTERS = {"/Sig": "/ETSI.CAdES.detached", "/DocTimeStamp": "/ETSI.RFC3161"}
_HEX = re.compile(rb"[0-9A-Fa-f\s]*")
_EOF = re.compile(rb"%%EOF(\r\n|\r|\n)?")


@dataclass(frozen=True)
class Check:
    """One check's outcome; ``reason`` says why in Chinese, pass or fail."""

    code: str
    title: str
    passed: bool
    reason: str


@dataclass(frozen=True)
class ExpectedField:
    """One party's signature field as the registry expects it."""

    name: str
    """Field name, e.g. ``sig_county_office``."""
    party: str
    """The party as a person reads it, e.g. 甲方（服务县项目办）."""
    certificates: frozenset[bytes]
    """DER of every certificate registered for this party that may have signed this field."""


@dataclass(frozen=True)
class ExpectedLayout:
    """What the registry says the file must look like."""

    fields: tuple[ExpectedField, ...]
    """The kind's signature fields in signing order."""
    signed: int
    """How many parties the registry records as having signed (the first ``signed`` fields)."""
    complete: bool
    """Every party has signed and the document was finished with a document timestamp."""


@dataclass(frozen=True)
class SignatureInfo:
    """One signature or document timestamp, as found (validated or not)."""

    field_name: str
    doc_timestamp: bool
    signer_subject: str
    signer_serial: str | None
    """Hex serial of the signer's (or TSA's) certificate."""
    time: datetime | None
    """The timestamp's time (trusted or not: see the checks)."""
    revision: int


@dataclass
class _Sig:
    """Working state of one filled signature field."""

    name: str
    field: generic.DictionaryObject
    value: generic.DictionaryObject | None
    sig_ref: generic.Reference | None
    emb: EmbeddedPdfSignature | None = None
    doc_ts: bool = False
    status: PdfSignatureStatus | None = None
    ts_status: Any = None  # DocumentTimestampStatus
    error: str | None = None
    moment: datetime | None = None

    @property
    def revision(self) -> int:
        return self.emb.signed_revision if self.emb is not None else -1

    @property
    def time(self) -> datetime | None:
        if self.doc_ts:
            return getattr(self.ts_status, "timestamp", None)
        tsv = self.status.timestamp_validity if self.status is not None else None
        return tsv.timestamp if tsv is not None else self.moment


@dataclass(frozen=True)
class Unreadable:
    """The bytes are not a PDF we can read at all: the verdict is 无法验证."""

    reason: str


@dataclass
class ParsedPdf:
    """The file parsed once: reader, revision boundaries, signature fields.

    Made by :func:`parse_pdf`, consumed by :func:`verify_parsed`; in between the caller may look
    at :attr:`unsigned_end` (where the revision before the first signature ends) to find the
    document in its registry.
    """

    data: bytes
    reader: PdfFileReader
    revision_ends: tuple[int | None, ...]
    """Offset just past each revision's ``%%EOF`` and its end-of-line (None if not found)."""
    sigs: list[_Sig]
    other_fields: list[str]
    """Terminal form fields that are not signature fields."""
    duplicate_fields: list[str]
    format_problems: list[tuple[str, str]] = field(default_factory=list)
    """``(check code, reason)`` for signature fields that could not be taken apart."""

    @property
    def signed(self) -> list[_Sig]:
        """Parsed signatures and document timestamps, oldest revision first."""
        return sorted((s for s in self.sigs if s.emb is not None), key=lambda s: s.revision)

    @property
    def first_signed_revision(self) -> int | None:
        revs = [s.revision for s in self.signed]
        return min(revs) if revs else None

    @property
    def unsigned_end(self) -> int | None:
        """Bytes ``[0, unsigned_end)`` are the document before anyone signed (the rendered PDF)."""
        first = self.first_signed_revision
        if first is None:
            return self.revision_ends[-1] if self.revision_ends else None
        return self.revision_ends[first - 1] if first >= 1 else None

    @property
    def unsigned_ends(self) -> list[int]:
        """Every revision end before the first signature (registry look-up candidates)."""
        first = self.first_signed_revision
        upto = len(self.revision_ends) if first is None else first
        return [e for e in self.revision_ends[:upto] if e is not None]


@dataclass(frozen=True)
class PdfVerification:
    """Every check on the bytes, and the signatures found."""

    checks: tuple[Check, ...]
    signatures: tuple[SignatureInfo, ...] = ()
    unverifiable: str | None = None
    """Set when the file could not be verified at all (the reason, Chinese)."""

    @property
    def verdict(self) -> Verdict:
        if self.unverifiable is not None:
            return Verdict.UNVERIFIABLE
        return Verdict.VALID if self.checks and all(c.passed for c in self.checks) else Verdict.INVALID

    def failed(self) -> list[str]:
        """Codes of the checks that failed."""
        return [c.code for c in self.checks if not c.passed]


def unreadable_result(reason: str) -> PdfVerification:
    return PdfVerification((Check("readable", CHECKS["readable"], False, reason),), (), reason)


# ---------------------------------------------------------------------------------------------
# Parsing


def _revision_ends(data: bytes, reader: PdfFileReader) -> tuple[int | None, ...]:
    """Where each revision's ``%%EOF`` (and one end-of-line) ends, from its xref section on."""
    xrefs = reader.xrefs
    ends: list[int | None] = []
    for rev in range(xrefs.total_revisions):
        info = xrefs.get_xref_container_info(rev)
        m = _EOF.search(data, max(info.end_location, info.start_location))
        ends.append(m.end() if m else None)
    return tuple(ends)


def _ambiguous_xref(data: bytes, reader: PdfFileReader) -> str | None:
    """Why the cross-reference data names some object twice, if it does.

    An object listed twice in one section, or in a hybrid file's table and its hidden stream alike,
    has no one meaning: pyHanko keeps the last entry, poppler and others the first. A later
    update can then show a viewer a forged page while the signature check sees the signed one.
    """
    xrefs = reader.xrefs
    for rev in range(xrefs.total_revisions):
        info = xrefs.get_xref_container_info(rev)
        if info.xref_section_type is XRefSectionType.STREAM:
            groups = [_xref_stream_entries(data, reader, info.start_location)]
        else:
            stream = io.BytesIO(data)
            stream.seek(info.start_location)
            groups = [list(parse_xref_table(stream, strict=False))]
            hybrid = xrefs.get_xref_data(rev).hybrid
            if hybrid is not None:
                hidden = _xref_stream_entries(data, reader, hybrid.meta_info.start_location)
                in_use = {e.idnum for e in groups[0] if e.xref_type is not XRefType.FREE}
                both = sorted(in_use & {e.idnum for e in hidden if e.xref_type is not XRefType.FREE})
                if both:
                    return f"第{rev + 1}版的交叉引用表与其隐藏交叉引用流都登记了对象{both[0]}"
                groups.append(hidden)
        for entries in groups:
            seen: set[int] = set()
            for entry in entries:
                if entry.idnum in seen:
                    return f"第{rev + 1}版的交叉引用数据两次登记了对象{entry.idnum}"
                seen.add(entry.idnum)
    return None


def _xref_stream_entries(data: bytes, reader: PdfFileReader, start: int) -> list[XRefEntry]:
    stream = io.BytesIO(data)
    stream.seek(start)
    idnum, generation = read_object_header(stream, strict=False)
    obj = generic.StreamObject.read_from_stream(stream, generic.Reference(idnum, generation, pdf=reader))
    if not isinstance(obj, generic.StreamObject):
        raise ValueError("cross-reference stream is not a stream")
    return list(parse_xref_stream(obj, strict=False))


def _walk_fields(reader: PdfFileReader) -> Iterator[tuple[str, generic.DictionaryObject]]:
    """Every terminal form field with its fully qualified name (cycles and depth bounded)."""
    try:
        top = reader.root["/AcroForm"]["/Fields"]
    except KeyError:
        return
    seen: set[tuple[int, int]] = set()

    def walk(fields: Any, prefix: str, depth: int) -> Iterator[tuple[str, generic.DictionaryObject]]:
        if depth > 16:
            raise ValueError("form field tree too deep")
        for ref in fields:
            if isinstance(ref, generic.IndirectObject):
                key = (ref.idnum, ref.generation)
                if key in seen:
                    raise ValueError("form field tree has a cycle")
                seen.add(key)
            node = ref.get_object()
            if not isinstance(node, generic.DictionaryObject):
                continue
            part = node.get("/T")
            name = (
                f"{prefix}.{part}"
                if prefix and part is not None
                else str(part if part is not None else prefix)
            )
            kids = node.get("/Kids")
            # Kids that carry names are fields; nameless kids are widgets of this field.
            named_kids = [k for k in (kids or []) if "/T" in k.get_object()]
            if named_kids:
                yield from walk(named_kids, name, depth + 1)
            else:
                yield name, node

    yield from walk(top, "", 0)


def _field_type(node: generic.DictionaryObject) -> str | None:
    cur: Any = node
    for _ in range(16):
        if "/FT" in cur:
            return str(cur["/FT"])
        parent = cur.get("/Parent")
        if parent is None:
            return None
        cur = parent.get_object()
    return None


def parse_pdf(data: bytes) -> ParsedPdf | Unreadable:
    """Parse ``data`` once; :class:`Unreadable` when it is not a PDF we can read."""
    if not data.lstrip(b"\r\n\t ").startswith(b"%PDF-"):
        return Unreadable("文件不是PDF格式")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        _ = reader.root, reader.xrefs.total_revisions
        if reader.encrypted:
            return Unreadable("文件已加密，无法验证")
        ends = _revision_ends(data, reader)
        ambiguous = _ambiguous_xref(data, reader)
        fields = list(_walk_fields(reader))
    except Exception as exc:  # a broken file raises many kinds of errors
        log.info("unreadable upload: %r", exc)
        return Unreadable(f"PDF文件结构损坏，无法解析（{type(exc).__name__}）")
    names = [n for n, _ in fields]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    sigs: list[_Sig] = []
    others: list[str] = []
    problems: list[tuple[str, str]] = []
    if ambiguous:
        problems.append(("modifications", f"{ambiguous}，不同阅读器会显示不同内容"))
    for name, node in fields:
        if _field_type(node) != "/Sig":
            others.append(name)
            continue
        raw = node.raw_get("/V") if "/V" in node else None
        if raw is None or isinstance(raw, generic.NullObject):
            sigs.append(_Sig(name, node, None, None))
            continue
        sig = _Sig(name, node, None, raw.reference if isinstance(raw, generic.IndirectObject) else None)
        sigs.append(sig)
        try:
            value = raw.get_object()
            if not isinstance(value, generic.DictionaryObject):
                raise ValueError("signature value is not a dictionary")
            sig.value = value
            found = _format_problem(value)
            if found:
                problems.append((found[0], f"签名域“{name}”：{found[1]}"))
                continue
            sig.doc_ts = value.get("/Type") == "/DocTimeStamp"
            sig.emb = EmbeddedPdfSignature(reader, node, name)
            if sig.emb.sig_object_type not in _SUBFILTERS:
                raise ValueError("unexpected signature type")
            if not sig.doc_ts and len(list(_tst_gen_times(sig.emb))) > 1:
                problems.append(("signature_format", f"签名域“{name}”：含有多个签名时间戳"))
        except Exception as exc:  # malformed signatures raise instead of reporting (field notes)
            sig.emb = None
            sig.error = repr(exc)
            problems.append(("signature_format", f"签名域“{name}”的签名无法解析（{type(exc).__name__}）"))
    return ParsedPdf(data, reader, ends, sigs, others, duplicates, problems)


def _format_problem(value: generic.DictionaryObject) -> tuple[str, str] | None:
    """``(check, why)`` when a signature dictionary is not one we sign with; None if it is."""
    kind = value.get("/Type")
    if kind not in _SUBFILTERS:
        return "signature_format", f"签名类型“{kind}”不可识别"
    if value.get("/Filter") != _SIG_FILTER:
        return "signature_format", f"签名处理程序（Filter）“{value.get('/Filter')}”不可识别"
    subfilter = value.get("/SubFilter")
    if subfilter != _SUBFILTERS[str(kind)]:
        return "signature_format", f"签名格式（SubFilter）“{subfilter}”不可识别"
    if "/Contents" not in value:
        return "signature_format", "缺少签名值（/Contents）"
    contents = value.raw_get("/Contents")
    if not isinstance(contents, generic.TextStringObject | generic.ByteStringObject):
        return "signature_format", "签名值（/Contents）不是字符串"
    if not contents.original_bytes.strip(b"\x00"):
        return "signature_format", "签名值（/Contents）为空"
    if "/ByteRange" not in value:
        return "byte_range", "缺少签名覆盖范围（/ByteRange）"
    return None


def _tst_gen_times(emb: EmbeddedPdfSignature) -> Iterator[datetime]:
    """Times in the signature's timestamp tokens, *unvalidated* (only to pick the moment to
    validate the signer's certificate at; the token itself is validated by pyHanko)."""
    for signed in extract_tst_data_iter(emb.signer_info, signed=False):
        yield signed["encap_content_info"]["content"].parsed["gen_time"].native


# ---------------------------------------------------------------------------------------------
# Checks on structure


def _byte_range_problems(parsed: ParsedPdf, sig: _Sig) -> list[str]:
    """The ByteRange is ``[0 a b c]``, its gap is this signature's /Contents, it ends its revision."""
    assert sig.emb is not None and sig.value is not None
    data, label = parsed.data, f"签名域“{sig.name}”"
    br = sig.value.raw_get("/ByteRange")
    if not isinstance(br, generic.ArrayObject) or len(br) != 4:
        return [f"{label}的签名覆盖范围（ByteRange）不是4个整数"]
    if not all(isinstance(v, generic.NumberObject) and not isinstance(v, generic.FloatObject) for v in br):
        return [f"{label}的签名覆盖范围（ByteRange）含有非整数"]
    start, len1, start2, len2 = (int(v) for v in br)
    if start != 0 or len1 <= 0 or len2 < 0 or start2 <= len1 or start2 + len2 > len(data):
        return [f"{label}的签名覆盖范围（ByteRange）不合理：{[start, len1, start2, len2]}"]
    out: list[str] = []
    gap = data[len1:start2]
    contents = sig.value.raw_get("/Contents").original_bytes
    if not (
        gap.startswith(b"<")
        and gap.endswith(b">")
        and _HEX.fullmatch(gap, 1, len(gap) - 1)
        and bytes.fromhex(gap[1:-1].decode("ascii")) == contents
    ):
        out.append(f"{label}的签名覆盖范围留出的空隙不是该签名的签名值")
    elif not _gap_is_own_contents(parsed, sig, len1):
        out.append(f"{label}的签名覆盖范围留出的空隙不在该签名字典之内")
    end = parsed.revision_ends[sig.revision] if 0 <= sig.revision < len(parsed.revision_ends) else None
    if end is None or start2 + len2 != end:
        out.append(f"{label}的签名没有覆盖到其所在版本的结尾")
    cov = getattr(sig.emb, "coverage", None)
    if cov is not None and cov.name not in ("ENTIRE_REVISION", "ENTIRE_FILE"):
        out.append(f"{label}的签名覆盖范围不完整（{cov.name}）")
    return out


def _gap_is_own_contents(parsed: ParsedPdf, sig: _Sig, gap_start: int) -> bool:
    """The hex string at ``gap_start`` is the ``/Contents`` value of this very signature object."""
    if sig.sig_ref is None:
        return False
    where = parsed.reader.xrefs.get_historical_ref(sig.sig_ref, sig.revision)
    if not isinstance(where, int) or where >= gap_start:
        return False
    between = parsed.data[where:gap_start]
    return b"endobj" not in between and between.rstrip(b" \t\r\n").endswith(b"/Contents")


def _trailing_problem(parsed: ParsedPdf) -> str | None:
    data = parsed.data
    last = parsed.revision_ends[-1] if parsed.revision_ends else None
    if last is None:
        return "找不到文件结束标记（%%EOF）"
    if last != len(data):
        return f"文件最后一个%%EOF之后还有{len(data) - last}字节的附加数据"
    return None


def _info_facts(resolver: Any) -> dict[str, str]:
    info = resolver.trailer_view.get("/Info")
    if info is None:
        return {}
    info = info.get_object()
    return {str(k): str(v) for k, v in info.items() if k not in _VOLATILE_INFO}


def _xmp_facts(resolver: Any) -> frozenset[tuple[str, str]]:
    """Every XMP property as (path of local names, value), less what pyHanko rewrites itself."""
    ref = resolver.root.get("/Metadata")
    if ref is None:
        return frozenset()
    data = ref.get_object().data
    if not data.strip():
        return frozenset()
    facts: set[tuple[str, str]] = set()

    def walk(el: ET.Element, path: str) -> None:
        local = el.tag.rsplit("}", 1)[-1]
        if local in _VOLATILE_XMP:
            return
        here = f"{path}/{local}"
        for key, value in el.attrib.items():
            name = key.rsplit("}", 1)[-1]
            if name not in _VOLATILE_XMP:
                facts.add((f"{here}@{name}", value))
        if (el.text or "").strip():
            facts.add((here, (el.text or "").strip()))
        for child in el:
            walk(child, here)

    walk(ET.fromstring(data), "")
    return frozenset(facts)


def _metadata_problems(parsed: ParsedPdf, last: int) -> list[str]:
    """Document info and XMP in the final revision say what they said at the last signature."""
    reader = parsed.reader
    final = reader.xrefs.total_revisions - 1
    if last >= final:
        return []
    signed, now = reader.get_historical_resolver(last), reader.get_historical_resolver(final)
    out = []
    if _info_facts(signed) != _info_facts(now):
        out.append("签署完成后文档信息（标题、作者等）被改动")
    try:
        changed = _xmp_facts(signed) != _xmp_facts(now)
    except ET.ParseError:
        changed = True
    if changed:
        out.append("签署完成后文档的XMP元数据被改动")
    return out


# ---------------------------------------------------------------------------------------------
# Validation


def _asn1(cert: Any) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class _Contexts:
    """One validation context for timestamps; signer contexts differ only by their moment."""

    def __init__(self, trust: TrustSpec) -> None:
        self.roots = [_asn1(c) for c in trust.roots]
        self.others = [_asn1(c) for c in trust.intermediates]
        self.crls = list(trust.crls)
        self.mode = "hard-fail" if trust.require_revocation_info else "soft-fail"
        self.now = self._make(None)
        self._signers: dict[datetime | None, ValidationContext] = {None: self.now}

    def _make(self, moment: datetime | None) -> ValidationContext:
        return ValidationContext(
            trust_roots=self.roots,
            other_certs=self.others,
            crls=self.crls,
            allow_fetching=False,
            revocation_mode=self.mode,
            moment=moment,
            best_signature_time=moment,
            retroactive_revinfo=moment is not None,
        )

    def at(self, moment: datetime | None) -> ValidationContext:
        if moment not in self._signers:
            self._signers[moment] = self._make(moment)
        return self._signers[moment]


async def _validate(parsed: ParsedPdf, contexts: _Contexts) -> None:
    signed = parsed.signed
    last = max((s.revision for s in signed if not s.doc_ts), default=-1)
    for sig in signed:
        assert sig.emb is not None
        try:
            if sig.doc_ts:
                sig.ts_status = await async_validate_pdf_timestamp(
                    sig.emb, validation_context=contexts.now, diff_policy=_AFTER_COMPLETION
                )
                continue
            times = list(_tst_gen_times(sig.emb))
            sig.moment = times[0] if times else None
            policy = _AFTER_COMPLETION if sig.revision == last else None
            sig.status = await async_validate_pdf_signature(
                sig.emb,
                signer_validation_context=contexts.at(sig.moment),
                ts_validation_context=contexts.now,
                diff_policy=policy,
            )
            if sig.moment is not None and not _trusted_token(sig.status):
                # The certificate was judged at the token's time before the token itself was: a
                # token from anyone else's TSA proves no time, so judge the certificate as of now.
                sig.moment = None
                sig.status = await async_validate_pdf_signature(
                    sig.emb,
                    signer_validation_context=contexts.now,
                    ts_validation_context=contexts.now,
                    diff_policy=policy,
                )
        except Exception as exc:  # pyHanko raises on many malformed inputs
            log.info("signature %s failed to validate: %r", sig.name, exc)
            sig.error = f"{type(exc).__name__}: {exc}"


def _trusted_token(status: PdfSignatureStatus) -> bool:
    ts = status.timestamp_validity
    return ts is not None and ts.intact and ts.valid and ts.trusted


def _signer_cert(sig: _Sig) -> asn1_x509.Certificate | None:
    """The signing certificate, or None when the CMS does not identify one unambiguously."""
    if sig.emb is None:
        return None
    try:
        return sig.emb.signer_cert
    except Exception:  # pyHanko raises when the SID matches no certificate, or several
        return None


def _cert_subject(cert: asn1_x509.Certificate | None) -> str:
    if cert is None:
        return ""
    try:
        return str(cert.subject.human_friendly)
    except Exception:  # pragma: no cover - odd encodings
        return ""


def _info(sig: _Sig) -> SignatureInfo:
    cert = _signer_cert(sig)
    return SignatureInfo(
        field_name=sig.name,
        doc_timestamp=sig.doc_ts,
        signer_subject=_cert_subject(cert),
        signer_serial=f"{cert.serial_number:x}" if cert is not None else None,
        time=sig.time,
        revision=sig.revision,
    )


def _fmt(t: datetime | None) -> str:
    if t is None:
        return "未知时间"
    from zoneinfo import ZoneInfo

    return t.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S（北京时间）")


class _Report:
    """Collects problems per check code; a check passes when it has none."""

    def __init__(self) -> None:
        self.problems: dict[str, list[str]] = {code: [] for code in CHECKS}
        self.ok: dict[str, str] = {}

    def fail(self, code: str, reason: str) -> None:
        self.problems[code].append(reason)

    def passed(self, code: str, reason: str) -> None:
        self.ok[code] = reason

    def checks(self) -> tuple[Check, ...]:
        out = []
        for code, title in CHECKS.items():
            probs = self.problems[code]
            if probs:
                shown = "；".join(dict.fromkeys(probs))
                out.append(Check(code, title, False, shown))
            else:
                out.append(Check(code, title, True, self.ok.get(code, "通过")))
        return tuple(out)


def verify_parsed(
    parsed: ParsedPdf, trust: TrustSpec, layout: ExpectedLayout | None, *, missing_layout: str | None = None
) -> PdfVerification:
    """Run every check on an already parsed file.

    :param layout: what the registry expects; ``None`` when the document is not in a registry,
        in which case the layout checks fail with ``missing_layout`` as their reason.
    """
    try:
        return _verify(parsed, trust, layout, missing_layout)
    except Exception as exc:  # never let a crafted file turn into a 500 or a "valid"
        log.exception("verification failed unexpectedly")
        return unreadable_result(f"验证过程中出现异常，无法验证（{type(exc).__name__}）")


def verify_pdf(
    data: bytes, trust: TrustSpec, layout: ExpectedLayout | None = None, *, missing_layout: str | None = None
) -> PdfVerification:
    """Parse and verify ``data`` (see the module docstring for what is checked)."""
    parsed = parse_pdf(data)
    if isinstance(parsed, Unreadable):
        return unreadable_result(parsed.reason)
    return verify_parsed(parsed, trust, layout, missing_layout=missing_layout)


def _verify(
    parsed: ParsedPdf, trust: TrustSpec, layout: ExpectedLayout | None, missing_layout: str | None
) -> PdfVerification:
    r = _Report()
    r.passed("readable", "PDF文件结构完整，可以解析")

    problem = _trailing_problem(parsed)
    if problem:
        r.fail("trailing_data", problem)
    else:
        r.passed("trailing_data", "最后一个%%EOF之后没有其他数据")

    for code, reason in parsed.format_problems:
        r.fail(code, reason)
    signed = parsed.signed
    regular = [s for s in signed if not s.doc_ts]
    stamps = [s for s in signed if s.doc_ts]
    r.passed(
        "signature_format",
        f"{len(regular)}个签名、{len(stamps)}个文档时间戳均为PAdES格式（ETSI.CAdES.detached / ETSI.RFC3161）",
    )

    for sig in signed:
        for p in _byte_range_problems(parsed, sig):
            r.fail("byte_range", p)
    revs = [s.revision for s in signed]
    if len(set(revs)) != len(revs):
        r.fail("byte_range", "同一版本中有多个签名")
    r.passed("byte_range", "每个签名都恰好覆盖其所在版本的全部内容（签名值本身除外）")

    asyncio.run(_validate(parsed, _Contexts(trust)))

    _crypto_checks(r, regular, stamps)
    _modification_checks(r, parsed, regular, stamps)
    _layout_checks(r, parsed, regular, stamps, layout, missing_layout)
    return PdfVerification(r.checks(), tuple(_info(s) for s in signed))


def _crypto_checks(r: _Report, regular: list[_Sig], stamps: list[_Sig]) -> None:
    if not regular:
        r.fail("integrity", "文件中没有任何签名")
    for sig in regular:
        label = f"签名域“{sig.name}”"
        st = sig.status
        if st is None:
            r.fail("integrity", f"{label}的签名无法校验（{sig.error}）")
            continue
        if not st.intact:
            r.fail("integrity", f"{label}签名后的内容被改动（摘要不符）")
        elif not st.valid:
            r.fail("integrity", f"{label}的签名值无效")
        if st.revoked:
            details = st.revocation_details
            when = _fmt(details.revocation_date) if details is not None else "未知时间"
            whose = "上级CA证书" if details is not None and details.ca_revoked else "签名证书"
            r.fail("revocation", f"{label}的{whose}在签名时（{_fmt(sig.time)}）已被吊销（吊销时间{when}）")
        elif st.intact and st.valid and not st.trusted:
            indic = getattr(st.trust_problem_indic, "name", None) or "无证书链"
            r.fail("chain", f"{label}的签名证书在签名时不可信：无法追溯至本平台根证书或已过期（{indic}）")
        tsv: TimestampSignatureStatus | None = st.timestamp_validity
        if tsv is None:
            r.fail("timestamp", f"{label}没有签名时间戳")
        elif not (tsv.intact and tsv.valid and tsv.trusted):
            r.fail("timestamp", f"{label}的签名时间戳无效或不是由可信的时间戳服务签发")
    for sig in stamps:
        label = f"文档时间戳“{sig.name}”"
        ts = sig.ts_status
        if ts is None:
            r.fail("integrity", f"{label}无法校验（{sig.error}）")
        elif not (ts.intact and ts.valid):
            r.fail("integrity", f"{label}所覆盖的内容被改动或其签名值无效")
        elif not ts.trusted:
            r.fail("timestamp", f"{label}不是由可信的时间戳服务签发")
    r.passed("integrity", f"{len(regular)}个签名和{len(stamps)}个文档时间戳的内容摘要与签名值均正确")
    r.passed("chain", "每个签名证书在签名时均有效，并可追溯至本平台根证书")
    r.passed("revocation", "根据本平台的证书吊销列表，签名时各证书均未被吊销")
    r.passed("timestamp", "每个签名都带有本平台信任的时间戳服务签发的时间戳")


def _modification_checks(r: _Report, parsed: ParsedPdf, regular: list[_Sig], stamps: list[_Sig]) -> None:
    """Revisions: unsigned ones, one per signature, then only document timestamps and validation data."""
    if not regular:
        r.passed("modifications", "无签名可供检查")
        return
    total = parsed.reader.xrefs.total_revisions
    sig_revs = [s.revision for s in regular]
    stamp_revs = {s.revision for s in stamps}
    first, last = sig_revs[0], sig_revs[-1]
    for rev in range(first, last + 1):
        if rev not in sig_revs:
            r.fail("modifications", f"签名之间夹有不含签名的修订版本（第{rev + 1}版）")
    for problem in _metadata_problems(parsed, last):
        r.fail("modifications", problem)
    if stamp_revs and min(stamp_revs) < last:
        r.fail("modifications", "文档时间戳出现在最后一个签名之前")
    for i, sig in enumerate(regular):
        st = sig.status
        if st is None:
            continue
        label = f"签名域“{sig.name}”"
        later = {s.name for s in regular[i + 1 :]} | {s.name for s in stamps}
        diff = st.diff_result
        if not isinstance(diff, DiffResult):
            reason = getattr(diff, "args", [""])[0] if diff is not None else "未能进行差异分析"
            r.fail("modifications", f"{label}签名之后的修改无法判定为允许的修改（{reason}）")
            continue
        limit = ModificationLevel.FORM_FILLING if i < len(regular) - 1 else ModificationLevel.LTA_UPDATES
        if diff.modification_level.value > limit.value:
            what = (
                "只允许后续签署方签名"
                if limit is ModificationLevel.FORM_FILLING
                else "只允许文档时间戳和验证数据"
            )
            r.fail(
                "modifications",
                f"{label}签名之后文件被修改（{diff.modification_level.name}），{what}",
            )
        extra = set(diff.changed_form_fields) - later
        if extra:
            r.fail("modifications", f"{label}签名之后表单域被改动：{'、'.join(sorted(extra))}")
        if st.docmdp_ok is False:
            r.fail("modifications", f"{label}签名之后的修改违反了签名的锁定设置（DocMDP/FieldMDP）")
        if not st.seed_value_ok:
            r.fail("signature_format", f"{label}的签名不符合签名域对格式的要求（seed value）")
    for sig in stamps:
        ts = sig.ts_status
        if ts is None:
            continue
        diff = ts.diff_result
        if diff is not None and (
            not isinstance(diff, DiffResult)
            or diff.modification_level.value > ModificationLevel.LTA_UPDATES.value
        ):
            r.fail("modifications", f"文档时间戳“{sig.name}”之后文件被修改")
    after = total - 1 - max(last, *stamp_revs) if stamp_revs else total - 1 - last
    r.passed(
        "modifications",
        "每个签名之后只有后续签署方的签名、文档时间戳和验证数据"
        + (f"（最后的时间戳之后另有{after}个只含验证数据的版本）" if after > 0 else ""),
    )


def _layout_checks(
    r: _Report,
    parsed: ParsedPdf,
    regular: list[_Sig],
    stamps: list[_Sig],
    layout: ExpectedLayout | None,
    missing_layout: str | None,
) -> None:
    if layout is None:
        why = missing_layout or "没有登记记录可供核对"
        for code in ("fields", "binding", "order", "complete"):
            r.fail(code, why)
        return
    expected = [f.name for f in layout.fields]
    by_name = {f.name: f for f in layout.fields}
    stamp_fields = {s.name for s in stamps}
    present = [s.name for s in parsed.sigs if s.name not in stamp_fields]
    for name in parsed.duplicate_fields:
        r.fail("fields", f"签名域“{name}”重复出现")
    for name in parsed.other_fields:
        r.fail("fields", f"文件中有不应存在的表单域“{name}”")
    extra = [n for n in present if n not in by_name]
    if extra:
        r.fail("fields", f"文件中有该类文书不应有的签名域：{'、'.join(extra)}")
    missing = [n for n in expected if n not in present]
    if missing:
        r.fail("fields", f"缺少签名域：{'、'.join(by_name[n].party for n in missing)}")
    r.passed(
        "fields", f"签名域恰为该类文书的{len(expected)}个签署方：{'、'.join(f.party for f in layout.fields)}"
    )

    for sig in regular:
        spec = by_name.get(sig.name)
        if spec is None:
            r.fail("binding", f"签名域“{sig.name}”不属于任何登记的签署方")
            continue
        cert = _signer_cert(sig)
        if cert is None:
            r.fail("binding", f"{spec.party}的签名中无法确定唯一的签名证书")
        elif cert.dump() not in spec.certificates:
            who = _cert_subject(cert)
            r.fail("binding", f"{spec.party}的签名不是用登记给该方的证书签署的（实际签名证书：{who}）")
    r.passed("binding", "每个签名域都由登记给对应签署方的证书签署")

    names = [s.name for s in regular]
    if names != expected[: len(names)]:
        shown = "→".join(by_name[n].party if n in by_name else n for n in names) or "无"
        r.fail("order", f"签署顺序为{shown}，应为{'→'.join(f.party for f in layout.fields)}")
    times = [s.time for s in regular]
    for a, b in itertools.pairwise(regular):
        if a.time is not None and b.time is not None and b.time < a.time:
            r.fail("order", f"“{b.name}”的签名时间早于前一签署方“{a.name}”")
    if regular and stamps and None not in times:
        last_time = max(t for t in times if t is not None)
        for s in stamps:
            if s.time is not None and s.time < last_time:
                r.fail("order", f"文档时间戳“{s.name}”早于最后一个签名")
    r.passed("order", "签署顺序与签署时间均符合该类文书的签署次序")

    n = len(regular)
    if n < layout.signed:
        r.fail(
            "complete", f"登记记录显示已有{layout.signed}方签署，文件中只有{n}个签名：文件被截回到早先版本"
        )
    elif n > layout.signed:
        r.fail("complete", f"文件中有{n}个签名，登记记录只有{layout.signed}方签署")
    if layout.complete:
        if n < len(layout.fields):
            pass  # reported above unless the registry itself is inconsistent
        if not stamps:
            r.fail("complete", "文件缺少签署完成时加盖的文档时间戳：文件被截回到早先版本")
    else:
        r.fail("complete", f"文书尚未签署完毕（已签{layout.signed}/{len(layout.fields)}方）")
    r.passed("complete", f"{len(layout.fields)}方均已签署，并加盖了文档时间戳")
