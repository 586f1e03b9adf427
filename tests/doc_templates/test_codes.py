"""Verification codes: format, entropy, forgiving normalisation."""

from __future__ import annotations

import re

import pytest

from service.documents.codes import ALPHABET, CODE_BITS, InvalidCode, new_code, normalize_code, qr_payload

_FORMAT = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


def test_new_code_is_four_groups_of_four_crockford_symbols():
    for _ in range(200):
        assert _FORMAT.match(new_code())


def test_code_carries_at_least_80_bits():
    symbols = new_code().replace("-", "")
    assert CODE_BITS >= 80
    assert len(symbols) * 5 >= 80
    assert len(ALPHABET) == 32


def test_codes_differ_and_use_the_whole_alphabet():
    codes = [new_code() for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    seen = set("".join(codes).replace("-", ""))
    assert seen == set(ALPHABET)


@pytest.mark.parametrize(
    "typed",
    ["7kq3-m9xd-2hfa-0rtv", "7KQ3M9XD2HFA0RTV", " 7KQ3 M9XD 2HFA ORTV ", "7KQ3-M9XD-2HFA-0RTV"],
)
def test_normalize_accepts_what_people_type(typed):
    assert normalize_code(typed) == "7KQ3-M9XD-2HFA-0RTV"


def test_normalize_reads_i_and_l_as_one():
    assert normalize_code("IL00-0000-0000-0000") == "1100-0000-0000-0000"


@pytest.mark.parametrize(
    "bad", ["7KQ3-M9XD-2HFA", "7KQ3-M9XD-2HFA-0RTVX", "UKQ3-M9XD-2HFA-0RTV", "7KQ3-M9XD-2HFA-0RT*"]
)
def test_normalize_refuses_non_codes(bad):
    with pytest.raises(InvalidCode):
        normalize_code(bad)


def test_qr_payload_is_the_public_verification_url():
    assert (
        qr_payload("https://xibu.example.cn/", "7kq3m9xd2hfa0rtv")
        == "https://xibu.example.cn/v/7KQ3-M9XD-2HFA-0RTV"
    )
