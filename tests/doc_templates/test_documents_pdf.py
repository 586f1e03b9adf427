"""Each kind rendered with sample data and converted by real LibreOffice: fonts, text, anchors, pages.

The PNGs written to test-artifacts/doc_templates/ are for a person to look at; the assertions here
catch what can be caught mechanically (a stray page, a blank page, a font not embedded, a name that
does not come out, a missing anchor).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from doc_templates.anchors import find_anchors
from doc_templates.context import build_context
from doc_templates.kinds import KINDS
from doc_templates.render import render_docx
from doc_templates.samples import SAMPLE_UNIT, sample
from tests.doc_templates.soffice import convert_many

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "doc_templates"
# The agreement runs to three pages (articles, then the last article with the signatures); every
# other kind is one sheet an office signs as it is.
MAX_PAGES = {"notice": 1, "agreement": 3, "appraisal": 1, "evaluation": 1, "certificate": 1}


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    return convert_many({k: render_docx(k, build_context(sample(k))) for k in KINDS})


def _tool(args: list[str], pdf: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        return subprocess.run([*args, f.name, "-"] if args[0] == "pdftotext" else [*args, f.name],
                              capture_output=True, text=True, check=True).stdout  # fmt: skip


def _pages(pdf: bytes) -> int:
    found = re.search(r"^Pages:\s+(\d+)", _tool(["pdfinfo"], pdf), re.M)
    assert found
    return int(found.group(1))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_font_is_embedded_and_chinese_faces_are_the_mapped_ones(pdfs, kind):
    rows = _tool(["pdffonts"], pdfs[kind]).splitlines()[2:]
    assert rows
    names = []
    for row in rows:
        cols = row.split()
        emb = cols[-5]
        assert emb == "yes", row
        names.append(cols[0].split("+")[-1])
    joined = " ".join(names)
    assert "NotoSerifCJK" in joined  # 仿宋_GB2312 / 方正小标宋简体 body and titles
    if kind != "certificate":  # the only kind without 黑体 labels
        assert "NotoSansCJK" in joined
    assert "DejaVu" not in joined  # no silent substitution by the generic default


def test_titles_are_bold_serif_and_kai_is_used(pdfs):
    fonts = _tool(["pdffonts"], pdfs["agreement"])
    assert "NotoSerifCJK" in fonts and "-Bold" in fonts
    assert "UKai" in fonts  # 楷体_GB2312 subtitle


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_names_and_escaped_unit_extract_as_text(pdfs, kind):
    text = re.sub(r"\s+", "", _tool(["pdftotext"], pdfs[kind]))
    data = sample(kind)
    assert data.person.name in text
    assert re.sub(r"\s+", "", SAMPLE_UNIT) in text
    assert "{{" not in text
    assert data.meta.code in text


def test_rare_characters_come_out_in_the_pdf(pdfs):
    text = _tool(["pdftotext"], pdfs["notice"]) + _tool(["pdftotext"], pdfs["certificate"])
    for char in "𠮷堃䶮㛃":
        assert char in text


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_party_has_an_anchor_inside_the_page(pdfs, kind):
    anchors = find_anchors(pdfs[kind])
    assert set(anchors) == set(KINDS[kind].parties)
    pages = _pages(pdfs[kind])
    for box in anchors.values():
        assert 0 <= box.page_index < pages
        assert 30 < box.x0 < box.x1 < 820 and 30 < box.y0 < box.y1 < 820


def test_agreement_parties_sign_side_by_side_on_the_last_page(pdfs):
    anchors = find_anchors(pdfs["agreement"])
    last = _pages(pdfs["agreement"]) - 1
    assert {a.page_index for a in anchors.values()} == {last}
    xs = [anchors[p].center[0] for p in ("county_office", "unit", "volunteer")]
    assert xs == sorted(xs)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_qr_image_is_present(pdfs, kind):
    listing = _tool(["pdfimages", "-list"], pdfs[kind]).splitlines()[2:]
    assert len(listing) == 1


def _ink_share(pgm: bytes) -> float:
    """Share of non-white pixels in a binary PGM (P5) image."""
    parts = pgm.split(maxsplit=4)
    assert parts[0] == b"P5"
    pixels = parts[4]
    return sum(1 for b in pixels if b < 200) / len(pixels)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_rasterised_pages_fit_and_none_is_blank(pdfs, kind):
    pdf = pdfs[kind]
    pages = _pages(pdf)
    assert 1 <= pages <= MAX_PAGES[kind]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "80", "-png", str(src), str(ARTIFACTS / kind)], check=True)
        subprocess.run(["pdftoppm", "-r", "20", "-gray", str(src), str(Path(tmp) / "g")], check=True)
        grays = sorted(Path(tmp).glob("g-*.pgm"))
        assert len(grays) == pages
        for gray in grays:
            assert _ink_share(gray.read_bytes()) > 0.01, f"{kind} {gray.name} is (nearly) blank"
    assert len(list(ARTIFACTS.glob(f"{kind}-*.png"))) >= pages


def test_notice_masthead_is_red(pdfs):
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(pdfs["notice"])
        # Top band of the page only: the masthead.
        subprocess.run(["pdftoppm", "-r", "20", "-y", "0", "-H", "40", "-W", "166", "-x", "0", str(src), str(Path(tmp) / "m")], check=True)  # fmt: skip
        ppm = next(Path(tmp).glob("m-*.ppm")).read_bytes()
    parts = ppm.split(maxsplit=4)
    assert parts[0] == b"P6"
    px = parts[4]
    red = sum(1 for i in range(0, len(px) - 2, 3) if px[i] > 180 and px[i + 1] < 120 and px[i + 2] < 120)
    assert red > 20
