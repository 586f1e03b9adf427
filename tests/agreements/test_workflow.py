"""The pure rules: party order per kind (configurable), whose turn, refusals; links and codes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from service.agreements import links, workflow
from service.errors import AppError


class TestPartyOrder:
    def test_defaults_follow_the_kinds(self) -> None:
        assert workflow.party_order("agreement") == ("county_office", "unit", "volunteer")
        assert workflow.party_order("appraisal") == ("volunteer", "unit", "county_office")

    def test_an_override_must_name_every_party_once(self) -> None:
        order = {"agreement": ["unit", "county_office", "volunteer"]}
        assert workflow.party_order("agreement", order) == ("unit", "county_office", "volunteer")
        with pytest.raises(ValueError):
            workflow.party_order("agreement", {"agreement": ["unit", "volunteer"]})


class TestTurns:
    def test_whose_turn_and_next(self) -> None:
        assert (
            workflow.whose_turn([("county_office", "signed"), ("unit", "open"), ("volunteer", "waiting")])
            == "unit"
        )
        assert workflow.next_open(["signed", "open", "waiting"], 1) == 2
        assert workflow.next_open(["signed", "signed", "open"], 2) is None

    @pytest.mark.parametrize(
        ("status", "http"), [("waiting", 409), ("signed", 410), ("voided", 410), ("declined", 410)]
    )
    def test_refusals_carry_their_status(self, status: str, http: int) -> None:
        with pytest.raises(AppError) as caught:
            workflow.check_can_sign(status, "服务县项目办")
        assert caught.value.status == http

    @pytest.mark.parametrize(
        ("state", "word"), [("voided", "作废"), ("declined", "拒签"), ("completed", "完成")]
    )
    def test_finished_documents_refuse(self, state: str, word: str) -> None:
        with pytest.raises(AppError) as caught:
            workflow.check_document_open(state, "issued")
        assert caught.value.status == 410 and word in caught.value.message


class TestLinks:
    def test_tokens_are_long_and_stored_hashed(self) -> None:
        token, digest = links.new_token()
        assert len(token) >= 43 and digest == links.hash_token(token) and token not in digest
        assert links.token_matches(token, digest) and not links.token_matches(token + "x", digest)

    def test_codes_are_six_digits_bound_to_the_request(self) -> None:
        code = links.new_code()
        assert len(code) == 6 and code.isdigit()
        h = links.hash_code(code, "secret", 7)
        assert links.code_matches(code, h, "secret", 7)
        assert not links.code_matches(code, h, "secret", 8) and not links.code_matches(code, h, "other", 7)

    def test_links_expire_at_the_end_of_the_day_in_beijing(self) -> None:
        assert links.end_of_day(date(2020, 8, 14)) == datetime(2020, 8, 14, 15, 59, 59, tzinfo=UTC)
