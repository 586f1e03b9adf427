"""The shipped fontconfig mapping and the glyph-coverage check."""

from __future__ import annotations

import subprocess

import pytest

from doc_templates.fonts import FONT_MAP, libreoffice_env, missing_glyphs


@pytest.mark.parametrize("word_name", sorted(FONT_MAP))
def test_word_font_names_resolve_to_their_mapped_face(word_name):
    family = subprocess.run(
        ["fc-match", "--format=%{family[0]}", word_name],
        capture_output=True,
        text=True,
        check=True,
        env=libreoffice_env(),
    ).stdout
    assert family == FONT_MAP[word_name][0]


def test_without_the_mapping_fontconfig_does_not_know_the_word_names():
    env = libreoffice_env()
    env.pop("FONTCONFIG_FILE")
    family = subprocess.run(
        ["fc-match", "--format=%{family[0]}", "仿宋_GB2312"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert family != "Noto Serif CJK SC"


def test_rare_characters_in_names_are_covered():
    assert missing_glyphs('王𠮷堃 李䶮㛃 "青年之家" & <志愿者>') == []


def test_characters_no_font_has_are_reported_once_each_in_order():
    assert missing_glyphs(["张\U0001f600", "\ue000\U0001f600"]) == ["\U0001f600", "\ue000"]


def test_line_breaks_and_spaces_are_not_glyphs():
    assert missing_glyphs("甲\n乙\t丙　丁\u200b") == []
