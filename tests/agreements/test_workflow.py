"""The pure rules: party order per kind (configurable), whose turn, refusals; links and codes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from service.agreements import links, workflow
from service.errors import AppError
from storage.models import OrgKind, Role


class TestPartyOrder:
    def test_defaults_follow_the_kinds(self) -> None:
        assert workflow.party_order("agreement") == ("county_office", "unit", "volunteer")
        assert workflow.party_order("appraisal") == ("volunteer", "unit", "county_office")
        assert workflow.party_order("evaluation") == ("volunteer", "unit", "county_office", "region_office")

    def test_each_kind_has_its_own_override(self) -> None:
        order = {"appraisal": ["unit", "volunteer", "county_office"]}
        assert workflow.party_order("appraisal", order) == ("unit", "volunteer", "county_office")
        assert workflow.party_order("evaluation", order)[-1] == "region_office"

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


class TestWhichKinds:
    def test_only_the_three_multi_party_kinds_are_signed_online(self) -> None:
        for kind in ("agreement", "appraisal", "evaluation"):
            workflow.check_signable(kind)
        for kind in ("notice", "certificate"):
            with pytest.raises(AppError) as caught:
                workflow.check_signable(kind)
            assert caught.value.status == 422 and "年度考核表" in caught.value.message

    def test_yearly_kinds_keep_their_year_and_the_evaluation_has_none(self) -> None:
        assert workflow.service_year("agreement", 2) == 2 and workflow.service_year("appraisal", None) == 1
        assert workflow.service_year("evaluation", 3) is None


END = date(2021, 7, 24)  # last day of a one-year service from 2020-07-25


def _ready(
    kind: str,
    *,
    year: int | None = 1,
    agreed_years: int = 1,
    graded_years: frozenset[int] | set[int] = frozenset({1}),
    service_end: date = END,
    today: date = date(2021, 9, 1),
) -> None:
    workflow.check_ready(
        kind, year=year, agreed_years=agreed_years, graded_years=graded_years, service_end=service_end,
        today=today,
    )  # fmt: skip


class TestWhenADocumentMayGoOut:
    def test_an_agreement_for_any_agreed_year(self) -> None:
        _ready("agreement", year=2, agreed_years=2, graded_years=set(), today=date(2020, 7, 1))
        with pytest.raises(workflow.NotReady) as caught:
            _ready("agreement", year=2, agreed_years=1)
        assert caught.value.code == "year_out_of_range" and caught.value.status == 409

    def test_an_appraisal_once_its_year_is_graded(self) -> None:
        _ready("appraisal", year=2, agreed_years=2, graded_years={2})
        with pytest.raises(workflow.NotReady) as caught:
            _ready("appraisal", year=2, agreed_years=2, graded_years={1})
        assert caught.value.code == "appraisal_not_graded" and "第2服务年" in caught.value.message

    def test_an_evaluation_from_the_last_day_of_service(self) -> None:
        _ready("evaluation", year=None, today=END)
        with pytest.raises(workflow.NotReady) as caught:
            _ready("evaluation", year=None, today=END - timedelta(days=1))
        assert caught.value.code == "service_not_ended" and "2021年7月24日" in caught.value.message

    def test_an_evaluation_needs_every_year_appraised(self) -> None:
        with pytest.raises(workflow.NotReady) as caught:
            _ready("evaluation", year=None, agreed_years=3, graded_years={2}, service_end=date(2023, 7, 24),
                   today=date(2023, 8, 1))  # fmt: skip
        assert caught.value.code == "appraisal_missing" and "第1年、第3年" in caught.value.message

    def test_links_last_to_the_deadline_for_first_year_agreements_and_30_days_otherwise(self) -> None:
        deadline, today = date(2020, 8, 14), date(2021, 9, 1)
        assert workflow.default_link_expiry("agreement", 1, deadline, today) == deadline
        assert workflow.default_link_expiry("agreement", 2, deadline, today) == date(2021, 10, 1)
        assert workflow.default_link_expiry("appraisal", 1, deadline, today) == date(2021, 10, 1)


class TestAccountParties:
    @pytest.mark.parametrize(
        ("role", "kind", "party"),
        [
            (Role.COUNTY_OFFICE, OrgKind.COUNTY_OFFICE, "county_office"),
            (Role.SERVICE_UNIT, OrgKind.SERVICE_UNIT, "unit"),
            (Role.REGION_ADMIN, OrgKind.REGION_OFFICE, "region_office"),
        ],
    )
    def test_role_and_organization_agree(self, role: Role, kind: OrgKind, party: str) -> None:
        assert workflow.account_party(role.value, kind.value) == party

    @pytest.mark.parametrize(
        ("role", "kind"),
        [
            (Role.REGION_ADMIN, OrgKind.SERVICE_UNIT),  # a misconfigured admin does not sign as a unit
            (Role.SERVICE_UNIT, OrgKind.COUNTY_OFFICE),
            (Role.LEAGUE_OFFICE, OrgKind.LEAGUE_OFFICE),
            (Role.VOLUNTEER, None),
            (Role.COUNTY_OFFICE, None),
        ],
    )
    def test_anything_else_signs_for_nobody(self, role: Role, kind: OrgKind | None) -> None:
        assert workflow.account_party(role.value, kind.value if kind else None) is None
