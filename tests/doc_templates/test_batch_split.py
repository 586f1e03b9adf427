"""split_documents: each person's PDF from a merged batch holds that person's content and nobody else's."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from doc_templates.anchors import anchors_in, find_anchors, page_words
from doc_templates.batch_render import render_many
from doc_templates.convert import ConverterPool
from doc_templates.fonts import libreoffice_env
from doc_templates.kinds import KINDS
from doc_templates.pdf_fonts import Type1Source, _parse_to_unicode, eexec_decrypt, eexec_encrypt
from doc_templates.pdf_split import SplitError, split_documents
from doc_templates.render import render_docx
from tests.doc_templates.batch_people import NAMES, contexts, pdf_text

pytestmark = pytest.mark.slow

KIND_CODES = sorted(KINDS)


@pytest.fixture(scope="module")
def pool() -> Iterator[ConverterPool]:
    with ConverterPool(size=1, env=libreoffice_env()) as p:
        yield p


@pytest.fixture(scope="module")
def batches(pool: ConverterPool) -> dict[str, tuple[bytes, list[bytes], list[bytes]]]:
    """kind → (merged PDF, split PDFs, standalone PDFs), for all seven people."""
    out = {}
    for kind in KIND_CODES:
        ctxs = contexts(kind)
        merged = pool.convert(render_many(kind, ctxs), f"{kind}-batch.docx")
        parts = split_documents(merged, len(ctxs), KINDS[kind].parties)
        alone = [pool.convert(render_docx(kind, c), f"{kind}-{i}.docx") for i, c in enumerate(ctxs)]
        out[kind] = (merged, parts, alone)
    return out


def _fonts(pdf: bytes) -> list[pikepdf.Dictionary]:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        seen = {}
        for page in doc.pages:
            for font in page.obj.Resources.get("/Font", {}).values():
                seen[font.objgen] = font
        return [_font_facts(f) for f in seen.values()]


def _font_facts(font: pikepdf.Object) -> dict:  # type: ignore[type-arg]
    cmap = _parse_to_unicode(font.ToUnicode.read_bytes())
    # A ligature glyph maps to several characters ("ffi"): count each.
    chars = set("".join(bytes.fromhex(v.decode()).decode("utf-16-be") for v in cmap.values()))
    facts = {"subtype": str(font.Subtype), "chars": chars, "codes": set(cmap)}
    if "/FontFile" in font.FontDescriptor:
        ff = font.FontDescriptor.FontFile
        src = Type1Source(ff.read_bytes(), int(ff.Length1), int(ff.Length2))
        facts["encoded"] = set(src.encoding)
        facts["glyphs"] = set(src.glyphs)
    return facts


def _unique_chars(kind: str, alone: list[bytes]) -> list[set[str]]:
    texts = [set(pdf_text(pdf)) for pdf in alone]
    unique = [
        set(NAMES[i]) - set().union(*(t for j, t in enumerate(texts) if j != i)) for i in range(len(alone))
    ]
    assert all(unique), f"{kind}: every name must have characters nobody else's document has"
    return unique


@pytest.mark.parametrize("kind", KIND_CODES)
def test_text_is_own_person_only(batches, kind: str) -> None:  # type: ignore[no-untyped-def]
    _, parts, alone = batches[kind]
    unique = _unique_chars(kind, alone)
    for i, part in enumerate(parts):
        text = pdf_text(part)
        assert NAMES[i] in text
        assert text == pdf_text(alone[i])
        for j, name in enumerate(NAMES):
            if j != i:
                assert name not in text
                assert not unique[j] & set(text)


@pytest.mark.parametrize("kind", KIND_CODES)
def test_fonts_carry_only_own_glyphs(batches, kind: str) -> None:  # type: ignore[no-untyped-def]
    merged, parts, alone = batches[kind]
    unique = _unique_chars(kind, alone)
    merged_chars = set().union(*(f["chars"] for f in _fonts(merged)))
    assert all(u <= merged_chars for u in unique)  # the check below would otherwise prove nothing
    for i, part in enumerate(parts):
        text = set(pdf_text(part))
        for font in _fonts(part):
            assert font["chars"] <= text | {" ", "\u3000"}, f"person {i}: font maps characters not shown"
            for j in range(len(parts)):
                if j != i:
                    assert not unique[j] & font["chars"]
            if "glyphs" in font:
                assert font["encoded"] == font["codes"]
                assert len(font["glyphs"]) == len(font["encoded"]) + 1  # + .notdef


@pytest.mark.parametrize("kind", KIND_CODES)
def test_only_own_qr_image(batches, kind: str) -> None:  # type: ignore[no-untyped-def]
    _, parts, alone = batches[kind]

    def images(pdf: bytes) -> list[bytes]:
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            found = {}
            for obj in doc.objects:
                if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == pikepdf.Name.Image:
                    found[obj.objgen] = obj.read_raw_bytes()
            return sorted(found.values())

    all_images = [images(a) for a in alone]
    assert len({tuple(x) for x in all_images}) == len(alone)  # everyone's QR differs
    for part, own in zip(parts, all_images, strict=True):
        assert images(part) == own


def _qr_texts(pdf: bytes, tmp: Path) -> list[str]:
    """What a phone reads from the page: the PDF rasterised at 150 dpi, the QR codes decoded by zbar."""
    src = tmp / "qr.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(src), str(tmp / "qr")], check=True)
    found = []
    for image in sorted(tmp.glob("qr-*.png")):
        out = subprocess.run(["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True)
        found += out.stdout.split()
        image.unlink()
    return found


@pytest.mark.parametrize("kind", KIND_CODES)
def test_each_part_scans_to_its_own_verification_url(batches, kind: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, parts, _ = batches[kind]
    payloads = [c["doc"]["qr"].payload for c in contexts(kind)]
    assert len(set(payloads)) == len(parts)
    for part, payload in zip(parts, payloads, strict=True):
        assert "/v/" in payload
        assert _qr_texts(part, tmp_path) == [payload]


@pytest.mark.parametrize("kind", KIND_CODES)
def test_parts_are_valid_pdfs_with_embedded_fonts_and_anchors(batches, kind: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, parts, alone = batches[kind]
    qpdf = shutil.which("qpdf")
    for part, single in zip(parts, alone, strict=True):
        assert len(PdfReader(io.BytesIO(part)).pages) == len(PdfReader(io.BytesIO(single)).pages)
        lines = subprocess.run(["pdffonts", "-"], input=part, capture_output=True, check=True).stdout
        rows = lines.decode().splitlines()[2:]
        assert rows
        for row in rows:
            emb, sub, uni = row.split()[-5:-2]
            assert (emb, sub, uni) == ("yes", "yes", "yes"), row
        if qpdf:
            (tmp_path / "part.pdf").write_bytes(part)
            subprocess.run([qpdf, "--check", str(tmp_path / "part.pdf")], capture_output=True, check=True)
        assert set(find_anchors(part)) == set(KINDS[kind].parties)
        # find_anchors(part) answers from what the split measured; it must be what pdftotext finds
        # in the part itself, and in the same person's document converted alone.
        assert find_anchors(part) == anchors_in(page_words(part)) == anchors_in(page_words(single))


def _gray(pdf: bytes, tmp: Path, tag: str) -> list[bytes]:
    src = tmp / f"{tag}.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-gray", "-r", "60", str(src), str(tmp / tag)], check=True)
    return [p.read_bytes() for p in sorted(tmp.glob(f"{tag}-*.pgm"))]


@pytest.mark.parametrize("kind", KIND_CODES)
def test_pages_look_like_standalone_conversion(batches, kind: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, parts, alone = batches[kind]
    for i, (part, single) in enumerate(zip(parts, alone, strict=True)):
        got, want = _gray(part, tmp_path, f"p{i}"), _gray(single, tmp_path, f"s{i}")
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            assert len(a) == len(b)
            differing = sum(1 for x, y in zip(a, b, strict=True) if abs(x - y) > 48)
            assert differing / len(a) < 0.001, f"{kind} person {i}: {differing} pixels differ"


def test_wrong_count_is_refused(batches) -> None:  # type: ignore[no-untyped-def]
    merged, _, _ = batches["notice"]
    with pytest.raises(SplitError, match="签名锚点"):
        split_documents(merged, len(NAMES) + 1, KINDS["notice"].parties)
    with pytest.raises(SplitError):
        split_documents(merged, len(NAMES), KINDS["agreement"].parties)


def test_eexec_matches_fonttools() -> None:
    from fontTools.misc import eexec

    data = bytes(range(256)) * 3
    assert eexec_encrypt(data) == eexec.encrypt(data, 55665)[0]
    assert eexec_decrypt(eexec_encrypt(data)) == data


def test_type1_subsets_reuse_cipher_text_without_changing_a_byte(batches) -> None:  # type: ignore[no-untyped-def]
    """Subsets of one source share encrypted prefixes; each must equal what a fresh source writes."""
    merged, _, _ = batches["notice"]
    with pikepdf.open(io.BytesIO(merged)) as doc:
        files = {
            f.objgen: f.FontDescriptor.FontFile
            for page in doc.pages
            for f in page.obj.Resources.Font.values()
            if "/FontFile" in f.FontDescriptor
        }
        assert files, "LibreOffice wrote no Type 1 font: this test would prove nothing"
        for ff in files.values():
            data, l1, l2 = ff.read_bytes(), int(ff.Length1), int(ff.Length2)
            shared = Type1Source(data, l1, l2)
            codes = sorted(shared.encoding)
            popularity = {c: (3 if i % 3 else 1) for i, c in enumerate(codes)}
            wanted = [set(codes[::2]), set(codes[1::2]), set(codes[::3]), set(codes)]
            for subset_codes in wanted + wanted:  # the second round runs on a warm cache
                got = shared.subset(subset_codes, popularity)
                assert got == Type1Source(data, l1, l2).subset(subset_codes, popularity)
                font, n1, n2, _ = got
                parsed = Type1Source(font, n1, n2)
                names = {shared.encoding[c] for c in subset_codes}
                assert set(parsed.glyphs) == names | {b".notdef"}
                assert all(parsed.glyphs[n] == shared.glyphs[n] for n in parsed.glyphs)
