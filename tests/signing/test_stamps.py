"""Visible stamps draw every character of a name, rare ones included, or refuse."""

from __future__ import annotations

import io
import re

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

import signing as S

from .conftest import Signed, trust

RARE = "𠮷䶮堃㛃"


def _tounicode_codepoints(pdf: bytes, field: str) -> set[int]:
    """Code points mapped by the ToUnicode CMaps of the fonts in ``field``'s appearance."""
    reader = PdfReader(io.BytesIO(pdf))
    found: set[int] = set()

    def walk(xobj: object) -> None:
        res = xobj.get("/Resources", {})  # type: ignore[attr-defined]
        for font in res.get("/Font", {}).values():
            font = font.get_object()
            if "/ToUnicode" in font:
                cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
                for hexstr in re.findall(r"<([0-9A-Fa-f]{4,8})>\s*$", cmap, re.M):
                    b = bytes.fromhex(hexstr)
                    found.update(ord(c) for c in b.decode("utf-16-be", errors="ignore"))
                for hexstr in re.findall(r"<[0-9A-Fa-f]+>\s*<([0-9A-Fa-f]{4,8})>", cmap):
                    found.update(ord(c) for c in bytes.fromhex(hexstr).decode("utf-16-be", errors="ignore"))
        for sub in res.get("/XObject", {}).values():
            walk(sub.get_object())

    for annot in reader.pages[0].get("/Annots", []):
        annot = annot.get_object()
        if annot.get("/T") == field:
            walk(annot["/AP"]["/N"].get_object())
    return found


class TestStampGlyphs:
    def test_rare_name_is_in_the_embedded_font(self, signed: Signed) -> None:
        mapped = _tounicode_codepoints(signed.final, "party_b")
        for ch in "吉𠮷䶮乙方志愿者签署人":
            assert ord(ch) in mapped, f"{ch} U+{ord(ch):04X} missing from stamp font"

    @pytest.mark.parametrize("ch", list(RARE))
    def test_font_for_rare_character_has_the_glyph(self, fonts: S.StampFonts, ch: str) -> None:
        data = fonts.font_for(f"签署人：张{ch}")
        cmap = TTFont(io.BytesIO(data)).getBestCmap()
        assert ord(ch) in cmap and cmap[ord(ch)] != ".notdef"

    def test_common_name_uses_small_prebuilt_face(self, fonts: S.StampFonts) -> None:
        data = fonts.font_for("甲方（服务县项目办）签署人：王小明 签署时间：2020-08-14 09:30:00")
        assert len(TTFont(io.BytesIO(data)).getGlyphOrder()) < 5000

    def test_character_no_face_has_is_refused(self, fonts: S.StampFonts) -> None:
        with pytest.raises(S.StampGlyphMissing) as err:
            fonts.font_for("签署人：\U0002fffd")
        assert err.value.missing == "\U0002fffd"

    def test_stamp_text_lines(self) -> None:
        from datetime import UTC, datetime

        spec = S.StampSpec("乙方（志愿者）", "吉𠮷", datetime(2020, 8, 14, 1, 30, tzinfo=UTC))
        assert spec.lines() == ("乙方（志愿者）", "签署人：吉𠮷", "签署时间：2020-08-14 09:30:00")


def _appearance(pdf: bytes, field: str) -> tuple[bytes, dict]:
    """The content and resources of ``field``'s normal appearance."""
    reader = PdfReader(io.BytesIO(pdf))
    for annot in reader.pages[0].get("/Annots", []):
        annot = annot.get_object()
        if annot.get("/T") == field:
            ap = annot["/AP"]["/N"].get_object()
            return ap.get_data(), ap["/Resources"]
    raise AssertionError(f"no field {field}")


class TestSeal:
    def test_seal_is_red_ink_with_the_office_name_role_and_time(
        self, signed: Signed, sample_pdf: bytes, tsa: S.LocalTimeStamper, fonts: S.StampFonts, pki: S.Pki
    ) -> None:
        from datetime import UTC, datetime

        name = "乌审旗𠮷堃项目办"  # rare characters in a seal still get their own glyphs
        when = datetime(2020, 8, 14, 1, 30, tzinfo=UTC)
        spec = S.StampSpec("自治区项目办", name, when, seal=True)
        box = S.FieldSpec("seal", 0, (300, 100, 413, 213))
        pdf = S.sign_pdf(
            sample_pdf, signed.signers[0], box, timestamper=tsa, certify=True, stamp=spec, fonts=fonts
        )
        content, resources = _appearance(pdf, "seal")
        assert b"0.85 0.08 0.08 rg" in content and b"0.85 0.08 0.08 RG" in content
        gs = resources["/ExtGState"]["/Seal"]
        assert gs["/BM"] == "/Multiply", "printed text under the seal must stay readable"
        mapped = _tounicode_codepoints(pdf, "seal")
        for ch in name + "自治区项目办" + "2020-08-14 09:30:00":
            assert ord(ch) in mapped, f"{ch} missing from the seal font"
        status = S.validate_pdf(pdf, trust(pki))
        assert status.signatures[0].ok, status.signatures[0].problem

    def test_new_name_does_not_subset_the_face(self, fonts: S.StampFonts) -> None:
        """A name never seen before only draws its own outlines; nothing is cut from the face.

        How fast that is, is ``bench/sign.py``'s to measure (the stamp column), not a test's.
        """
        before = dict(fonts._small)
        for name in ("欧阳明轩", "司马静怡", "上官婉儿", "诸葛孔明"):
            fonts.style(S.StampSpec("丙方（志愿者）", name))
        assert fonts._small == before
