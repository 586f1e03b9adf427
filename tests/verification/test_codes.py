"""What a verifier types becomes the stored code, or nothing: service.documents.codes as the lookup uses it."""

from __future__ import annotations

import pytest

from service.documents.codes import MAX_INPUT, InvalidCode, new_code, normalize_code
from service.verification.service import DUMMY_CODE, canonical_code

CODE = "7KQ3-M9XD-2HFA-0RTV"


@pytest.mark.parametrize(
    "typed",
    [
        CODE,
        "7kq3m9xd2hfa0rtv",
        "7KQ3 M9XD 2HFA 0RTV",
        "7KQ3—M9XD–2HFA‐0RTV",  # em dash, en dash, hyphen
        "７ＫＱ３－Ｍ９ＸＤ－２ＨＦＡ－０ＲＴＶ",  # full width, as a Chinese input method types it
        "7KQ3\u3000M9XD\t2HFA\n0RTV",  # ideographic space, tab, newline
        "7KQ3-M9XD-2HFA-ORTV",  # O for 0
    ],
)
def test_forgiving_forms(typed: str) -> None:
    assert normalize_code(typed) == CODE


def test_i_and_l_read_as_one() -> None:
    assert normalize_code("iL11-0000-0000-0000") == "1111-0000-0000-0000"


@pytest.mark.parametrize(
    "bad", ["", "7KQ3", CODE + "X", "UKQ3-M9XD-2HFA-0RTV", "7KQ3_M9XD_2HFA_0RTV", "x" * 200]
)
def test_not_codes(bad: str) -> None:
    with pytest.raises(InvalidCode):
        normalize_code(bad)
    assert canonical_code(bad) == DUMMY_CODE


def test_overlong_input_refused_before_any_folding() -> None:
    with pytest.raises(InvalidCode, match="过长"):
        normalize_code("7" * (MAX_INPUT + 1))


def test_the_dummy_can_never_be_issued() -> None:
    with pytest.raises(InvalidCode):
        normalize_code(DUMMY_CODE)
    assert all("U" not in new_code() for _ in range(500))


def test_canonical_codes_take_the_fast_path_unchanged() -> None:
    for _ in range(200):
        code = new_code()
        assert normalize_code(code) == code and canonical_code(code.lower()) == code
