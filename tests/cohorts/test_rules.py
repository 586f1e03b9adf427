"""Unit tests for the pure programme rules: every function in service/cohorts/rules.py."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest

from service.cohorts import rules
from service.cohorts.rules import RuleViolation, YearGrade


def make_id(region: str = "150102", birth: str = "19980301", seq: str = "123") -> str:
    first17 = region + birth + seq
    return first17 + rules.id_check_character(first17)


def q(year: int, grade: str = "合格") -> YearGrade:
    return YearGrade(year, grade, grade in ("优秀", "合格"))


class TestIdCheckCharacter:
    def test_standard_example_ends_in_x(self) -> None:
        # The worked example of GB 11643-1999.
        assert rules.id_check_character("11010519491231002") == "X"

    def test_digit_check_character(self) -> None:
        assert rules.id_check_character("44052418800101001") == "4"

    def test_wrong_length_refused(self) -> None:
        with pytest.raises(ValueError):
            rules.id_check_character("1234")


class TestParseIdNumber:
    def test_valid_number_gives_birth_date_and_sex(self) -> None:
        parsed = rules.parse_id_number(make_id(seq="123"))
        assert parsed.birth_date == date(1998, 3, 1)
        assert parsed.sex == "男"  # 17th digit 3 is odd

    def test_even_17th_digit_is_female(self) -> None:
        assert rules.parse_id_number(make_id(seq="124")).sex == "女"

    def test_check_character_x(self) -> None:
        parsed = rules.parse_id_number("11010519491231002X")
        assert parsed.birth_date == date(1949, 12, 31)

    def test_lower_case_x_refused(self) -> None:
        with pytest.raises(RuleViolation) as e:
            rules.parse_id_number("11010519491231002x")
        assert e.value.code == "id_check_char"

    def test_wrong_check_digit_names_the_right_one(self) -> None:
        good = make_id()
        bad = good[:17] + ("0" if good[17] != "0" else "1")
        with pytest.raises(RuleViolation) as e:
            rules.parse_id_number(bad)
        assert e.value.code == "id_checksum"
        assert good[17] in e.value.message

    @pytest.mark.parametrize("value", ["15010219980301123", "1501021998030112345"])
    def test_wrong_length(self, value: str) -> None:
        with pytest.raises(RuleViolation) as e:
            rules.parse_id_number(value)
        assert e.value.code == "id_length"

    def test_full_width_digits_refused(self) -> None:
        value = make_id()
        with pytest.raises(RuleViolation) as e:
            rules.parse_id_number("１" + value[1:])
        assert e.value.code == "id_digits"

    def test_unknown_province_refused(self) -> None:
        with pytest.raises(RuleViolation) as e:
            rules.parse_id_number(make_id(region="990102"))
        assert e.value.code == "id_region"

    @pytest.mark.parametrize("birth", ["19980230", "19981301", "19980431", "19980000"])
    def test_impossible_dates(self, birth: str) -> None:
        with pytest.raises(RuleViolation) as e:
            rules.parse_id_number(make_id(birth=birth))
        assert e.value.code == "id_birth_date"

    def test_feb_29_in_leap_year_accepted(self) -> None:
        assert rules.parse_id_number(make_id(birth="20000229")).birth_date == date(2000, 2, 29)

    @pytest.mark.parametrize("birth", ["19990229", "19000229"])  # 1900 is not a leap year
    def test_feb_29_in_common_year_refused(self, birth: str) -> None:
        with pytest.raises(RuleViolation):
            rules.parse_id_number(make_id(birth=birth))

    def test_birth_before_1900_refused(self) -> None:
        with pytest.raises(RuleViolation):
            rules.parse_id_number(make_id(birth="18991231"))

    def test_birth_in_future_refused_only_with_today(self) -> None:
        value = make_id(birth="20300101")
        assert rules.parse_id_number(value).birth_date == date(2030, 1, 1)
        with pytest.raises(RuleViolation):
            rules.parse_id_number(value, today=date(2020, 7, 1))


class TestMasking:
    def test_id_number_keeps_first_six_and_last_four(self) -> None:
        value = make_id()
        masked = rules.mask_id_number(value)
        assert masked == value[:6] + "********" + value[-4:]
        assert len(masked) == 18

    def test_short_values_fully_hidden(self) -> None:
        assert rules.mask_id_number("1234567890") == "**********"

    def test_eleven_characters_shows_six_plus_four(self) -> None:
        assert rules.mask_id_number("12345678901") == "123456*8901"

    def test_phone(self) -> None:
        assert rules.mask_phone("13912345678") == "139****5678"

    def test_odd_phone_fully_hidden(self) -> None:
        assert rules.mask_phone("12345") == "*****"


def make_credit_code(body: str = "91150100MA0N1PQ4R") -> str:
    return body + rules.credit_code_check_character(body)


class TestCreditCode:
    def test_valid_code_returned(self) -> None:
        code = make_credit_code()
        assert rules.validate_credit_code(code) == code

    def test_known_real_format_example(self) -> None:
        # The worked example often cited for GB 32100: 91350100M000100Y43.
        assert rules.credit_code_check_character("91350100M000100Y4") == "3"

    def test_wrong_check_character(self) -> None:
        code = make_credit_code()
        bad = code[:17] + ("0" if code[17] != "0" else "1")
        with pytest.raises(RuleViolation) as e:
            rules.validate_credit_code(bad)
        assert e.value.code == "uscc_checksum"

    @pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V", "a"])
    def test_forbidden_characters(self, letter: str) -> None:
        with pytest.raises(RuleViolation) as e:
            rules.validate_credit_code("91150100MA0N1PQ4" + letter + "0")
        assert e.value.code == "uscc_chars"

    def test_wrong_length(self) -> None:
        with pytest.raises(RuleViolation) as e:
            rules.validate_credit_code("91150100MA0N1")
        assert e.value.code == "uscc_length"


class TestServiceYears:
    @pytest.mark.parametrize("years", [1, 2, 3])
    def test_one_to_three_accepted(self, years: int) -> None:
        assert rules.check_service_years(years) == years

    @pytest.mark.parametrize("years", [0, 4, -1])
    def test_outside_refused(self, years: int) -> None:
        with pytest.raises(RuleViolation):
            rules.check_service_years(years)


class TestAddYears:
    def test_ordinary_day(self) -> None:
        assert rules.add_years(date(2020, 7, 20), 1) == date(2021, 7, 20)

    def test_feb_29_to_common_year_is_feb_28(self) -> None:
        assert rules.add_years(date(2020, 2, 29), 1) == date(2021, 2, 28)

    def test_feb_29_to_leap_year_stays(self) -> None:
        assert rules.add_years(date(2020, 2, 29), 4) == date(2024, 2, 29)


class TestAgreementPeriods:
    def test_one_agreement_per_year_from_report_date(self) -> None:
        periods = rules.agreement_periods(date(2020, 7, 25), 3)
        assert [(p.year, p.of_years, p.start, p.end) for p in periods] == [
            (1, 3, date(2020, 7, 25), date(2021, 7, 24)),
            (2, 3, date(2021, 7, 25), date(2022, 7, 24)),
            (3, 3, date(2022, 7, 25), date(2023, 7, 24)),
        ]

    def test_period_spanning_feb_29_lasts_366_days(self) -> None:
        (period,) = rules.agreement_periods(date(2019, 7, 20), 1)
        assert period.end == date(2020, 7, 19)
        assert (period.end - period.start).days + 1 == 366

    def test_periods_from_feb_29_are_contiguous(self) -> None:
        periods = rules.agreement_periods(date(2020, 2, 29), 3)
        for before, after in pairwise(periods):
            assert after.start == before.end + timedelta(days=1)
        assert periods[0].end == date(2021, 2, 27)
        assert periods[-1].end == date(2023, 2, 27)

    def test_bad_length_refused(self) -> None:
        with pytest.raises(RuleViolation):
            rules.agreement_periods(date(2020, 7, 20), 4)


class TestServiceEnd:
    def test_day_before_anniversary(self) -> None:
        assert rules.service_end(date(2020, 7, 20), 2) == date(2022, 7, 19)

    def test_across_leap_day(self) -> None:
        assert rules.service_end(date(2023, 3, 1), 1) == date(2024, 2, 29)


class TestFullYearsServed:
    def test_exact_years(self) -> None:
        assert rules.full_years_served(date(2020, 7, 20), date(2022, 7, 19)) == 2

    def test_one_day_short(self) -> None:
        assert rules.full_years_served(date(2020, 7, 20), date(2022, 7, 18)) == 1

    def test_ended_before_start_is_zero(self) -> None:
        assert rules.full_years_served(date(2020, 7, 20), date(2020, 7, 1)) == 0

    def test_from_feb_29(self) -> None:
        assert rules.full_years_served(date(2020, 2, 29), date(2021, 2, 27)) == 1
        assert rules.full_years_served(date(2020, 2, 29), date(2021, 2, 26)) == 0


class TestCountyLevelPostShares:
    def test_groups_by_county_and_applies_ten_percent(self) -> None:
        posts = [("呼和浩特市", "回民区", i < 1) for i in range(10)] + [
            ("包头市", "东河区", i < 2) for i in range(10)
        ]
        shares = {s.county: s for s in rules.county_level_post_shares(posts)}
        assert shares["回民区"].allowed == 1 and not shares["回民区"].over_cap
        assert shares["东河区"].county_level == 2 and shares["东河区"].over_cap
        assert "超过10%上限" in shares["东河区"].message()
        assert shares["东河区"].share == pytest.approx(0.2)

    def test_small_county_allows_none(self) -> None:
        (share,) = rules.county_level_post_shares(
            [("包头市", "固阳县", True)] * 1 + [("包头市", "固阳县", False)] * 8
        )
        assert share.total == 9 and share.allowed == 0 and share.over_cap

    def test_empty_share_is_zero(self) -> None:
        assert rules.CountyPostShare("a", "b", 0, 0, 0).share == 0.0


class TestExcellentCap:
    @pytest.mark.parametrize(
        ("serving", "allowed"), [(0, 0), (4, 0), (5, 1), (9, 1), (10, 2), (815, 163), (1315, 263)]
    )
    def test_allowed_is_floor_of_twenty_percent(self, serving: int, allowed: int) -> None:
        assert rules.excellent_allowed(serving) == allowed

    def test_up_to_the_cap_passes(self) -> None:
        rules.check_excellent_cap(10, 1, 1)

    def test_one_past_the_cap_refused_with_counts(self) -> None:
        with pytest.raises(RuleViolation) as e:
            rules.check_excellent_cap(10, 2, 1)
        assert e.value.code == "excellent_cap"
        assert "已有2人" in e.value.message and "10人" in e.value.message and "最多2人" in e.value.message


class TestPostgraduateBonus:
    def test_still_serving(self) -> None:
        result = rules.postgraduate_bonus(date(2020, 7, 20), None, [])
        assert not result.eligible and result.reasons == ["服务尚未期满"]

    def test_one_year_is_not_enough(self) -> None:
        result = rules.postgraduate_bonus(date(2020, 7, 20), date(2021, 7, 19), [q(1)])
        assert not result.eligible
        assert result.reasons == ["实际服务1年，不满2年"]

    def test_two_years_qualified(self) -> None:
        result = rules.postgraduate_bonus(date(2020, 7, 20), date(2022, 7, 19), [q(1), q(2, "优秀")])
        assert result.eligible and result.reasons == []
        assert result.window_start == date(2022, 7, 20)
        assert result.window_end == date(2025, 7, 19)

    def test_three_years_with_one_unqualified(self) -> None:
        result = rules.postgraduate_bonus(
            date(2020, 7, 20), date(2023, 7, 19), [q(1), q(2, "基本合格"), q(3)]
        )
        assert not result.eligible and result.reasons == ["第2年考核为基本合格"]

    def test_missing_year(self) -> None:
        result = rules.postgraduate_bonus(date(2020, 7, 20), date(2023, 7, 19), [q(1), q(2)])
        assert result.reasons == ["第3年未考核"]

    def test_year_recorded_without_grade_counts_as_missing(self) -> None:
        result = rules.postgraduate_bonus(
            date(2020, 7, 20), date(2022, 7, 19), [q(1), YearGrade(2, None, False)]
        )
        assert result.reasons == ["第2年未考核"]


class TestFreshGraduateTreatment:
    def test_still_serving(self) -> None:
        assert not rules.fresh_graduate_treatment(date(2020, 7, 20), None, []).eligible

    def test_one_year_qualified_gives_two_year_window(self) -> None:
        result = rules.fresh_graduate_treatment(date(2020, 7, 20), date(2021, 7, 19), [q(1)])
        assert result.eligible
        assert (result.window_start, result.window_end) == (date(2021, 7, 20), date(2023, 7, 19))

    def test_less_than_a_year(self) -> None:
        result = rules.fresh_graduate_treatment(date(2020, 7, 20), date(2021, 7, 1), [])
        assert not result.eligible and result.reasons == ["实际服务不满1年"]

    def test_unqualified_year(self) -> None:
        result = rules.fresh_graduate_treatment(date(2020, 7, 20), date(2022, 7, 19), [q(1), q(2, "不合格")])
        assert result.reasons == ["第2年考核为不合格"]

    def test_graduate_corps_window_from_postgraduate_graduation(self) -> None:
        result = rules.fresh_graduate_treatment(
            date(2020, 7, 20), date(2021, 7, 19), [q(1)], graduate_corps_graduation=date(2024, 6, 30)
        )
        assert (result.window_start, result.window_end) == (date(2024, 6, 30), date(2026, 6, 29))


class TestCohortCalendar:
    def test_plan_dates(self) -> None:
        cal = rules.default_calendar(2020)
        assert cal.signing_deadline == date(2020, 8, 14)
        assert (cal.report_window_start, cal.report_window_end) == (date(2020, 7, 20), date(2020, 7, 31))

    def test_parse_cohort_code(self) -> None:
        assert rules.parse_cohort_code("2020-2021") == 2020

    @pytest.mark.parametrize(
        "code", ["2020-2022", "2020", "20-21", "2020–2021", "２０２０-２０２１", "abcd-abce"]
    )
    def test_bad_cohort_codes(self, code: str) -> None:
        with pytest.raises(RuleViolation):
            rules.parse_cohort_code(code)


class TestEligibilityEdges:
    """实施方案 三(一)1–2 at their boundaries: exactly two years, a year short of qualified, the windows."""

    REPORT = date(2020, 7, 25)

    def test_exactly_two_years_is_two_years_served(self) -> None:
        last = date(2022, 7, 24)  # the day before the second anniversary
        result = rules.postgraduate_bonus(self.REPORT, last, [q(1), q(2)])
        assert result.eligible, result.reasons
        assert (result.window_start, result.window_end) == (date(2022, 7, 25), date(2025, 7, 24))

    def test_one_day_short_of_two_years_is_one_year(self) -> None:
        result = rules.postgraduate_bonus(self.REPORT, date(2022, 7, 23), [q(1), q(2)])
        assert not result.eligible and result.reasons == ["实际服务1年，不满2年"]

    def test_one_unqualified_year_of_two_refuses_both_policies(self) -> None:
        grades = [q(1), q(2, "不合格")]
        last = date(2022, 7, 24)
        pg = rules.postgraduate_bonus(self.REPORT, last, grades)
        fg = rules.fresh_graduate_treatment(self.REPORT, last, grades)
        assert not pg.eligible and pg.reasons == ["第2年考核为不合格"]
        assert not fg.eligible and fg.reasons == ["第2年考核为不合格"]

    def test_excellent_counts_as_qualified(self) -> None:
        assert rules.postgraduate_bonus(self.REPORT, date(2022, 7, 24), [q(1, "优秀"), q(2, "优秀")]).eligible

    def test_windows_start_the_day_after_service_ends(self) -> None:
        last = date(2021, 7, 24)
        fg = rules.fresh_graduate_treatment(self.REPORT, last, [q(1)])
        assert fg.eligible and fg.window_start == last + timedelta(days=1)
        assert fg.window_end == date(2023, 7, 24), "two years, the last day included"

    def test_postgraduate_window_across_a_leap_day(self) -> None:
        result = rules.postgraduate_bonus(date(2018, 3, 1), date(2020, 2, 29), [q(1), q(2)])
        assert result.eligible
        assert (result.window_start, result.window_end) == (date(2020, 3, 1), date(2023, 2, 28))

    def test_teaching_corps_without_graduation_gets_no_window_but_a_note(self) -> None:
        result = rules.fresh_graduate_treatment(self.REPORT, date(2021, 7, 24), [q(1)], teaching_corps=True)
        assert result.eligible
        assert (result.window_start, result.window_end) == (None, None)
        assert rules.TEACHING_CORPS_WINDOW_NOTE in result.notes

    def test_teaching_corps_with_graduation_counts_from_it(self) -> None:
        result = rules.fresh_graduate_treatment(
            self.REPORT,
            date(2021, 7, 24),
            [q(1)],
            teaching_corps=True,
            graduate_corps_graduation=date(2024, 6, 30),
        )
        assert (result.window_start, result.window_end) == (date(2024, 6, 30), date(2026, 6, 29))
        assert rules.TEACHING_CORPS_WINDOW_NOTE not in result.notes

    def test_fresh_graduate_names_the_unrecorded_condition(self) -> None:
        result = rules.fresh_graduate_treatment(self.REPORT, date(2021, 7, 24), [q(1)])
        assert result.notes == [rules.NO_PRIOR_WORK_NOTE]
        assert rules.postgraduate_bonus(self.REPORT, date(2022, 7, 24), [q(1), q(2)]).notes == []

    def test_each_rule_quotes_its_clause(self) -> None:
        assert (
            "服务2年以上且考核合格" in rules.POSTGRADUATE_RULE and "初试总分加10分" in rules.POSTGRADUATE_RULE
        )
        assert "服务期满且考核合格后2年内" in rules.FRESH_GRADUATE_RULE


class TestServiceLength:
    @pytest.mark.parametrize(
        ("last", "years", "days", "text"),
        [
            (date(2022, 7, 24), 2, 0, "2年"),
            (date(2022, 8, 24), 2, 31, "2年31天"),
            (date(2020, 7, 25), 0, 1, "1天"),
            (date(2020, 7, 24), 0, 0, "0天"),
            (date(2023, 7, 23), 2, 364, "2年364天"),
        ],
    )
    def test_whole_years_and_days(self, last: date, years: int, days: int, text: str) -> None:
        length = rules.service_length(date(2020, 7, 25), last)
        assert (length.years, length.days, length.text()) == (years, days, text)
