"""The statement's pure parts: masking, the identity comparison, and assembly from a document's data."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from doc_templates.samples import sample
from service.cohorts import rules
from service.verification import schemas, statement
from service.verification.identity import identity_key, matches, normalize_id_number, normalize_name
from service.verification.masking import mask_name


class TestMaskName:
    @pytest.mark.parametrize(
        ("name", "masked"),
        [
            ("张晓明", "张*明"),
            ("张三", "张*"),
            ("王", "*"),
            ("欧阳娜娜", "欧阳*娜"),
            ("欧阳娜", "欧阳*"),
            ("司马相如", "司马*如"),
            ("诸葛孔明亮", "诸葛**亮"),
            ("乌云其木格", "乌***格"),
            ("王𠮷堃", "王*堃"),
            ("阿依古丽·买买提", "阿***·**提"),
            ("阿依古丽•买买提", "阿***•**提"),
            ("艾力·买买提·吐尔逊", "艾*·***·**逊"),
            ("A·B", "A·*"),
            ("  张 晓明 ", "张*明"),
            ("", ""),
        ],
    )
    def test_cases(self, name: str, masked: str) -> None:
        assert mask_name(name) == masked

    @pytest.mark.parametrize("name", ["张晓明", "欧阳娜娜", "阿依古丽·买买提", "王", "张三", "巴特尔"])
    def test_never_the_whole_name(self, name: str) -> None:
        assert mask_name(name) != name and "*" in mask_name(name)

    def test_full_width_separator_folds(self) -> None:
        assert mask_name("阿依古丽．买买提") == "阿***.**提"


class TestIdentityComparison:
    KEY = identity_key("test-secret")

    def test_key_is_derived_not_the_secret(self) -> None:
        assert self.KEY != b"test-secret" and len(self.KEY) == 32
        assert identity_key("other") != self.KEY

    @pytest.mark.parametrize("typed", ["龚晓琳", " 龚晓琳 ", "龚 晓 琳"])
    def test_name_matches_after_normalising(self, typed: str) -> None:
        assert matches(self.KEY, "name", typed, "龚晓琳")

    def test_middle_dots_are_one(self) -> None:
        assert normalize_name("阿依古丽・买买提") == normalize_name("阿依古丽·买买提") == "阿依古丽·买买提"
        assert matches(self.KEY, "name", "阿依古丽•买买提", "阿依古丽·买买提")

    @pytest.mark.parametrize("typed", ["龚晓", "龚晓琳琳", "龚小琳", ""])
    def test_other_names_do_not(self, typed: str) -> None:
        assert not matches(self.KEY, "name", typed, "龚晓琳")

    @pytest.mark.parametrize(
        "typed",
        [
            "15010219980301001X",
            "15010219980301001x",
            "150102 19980301 001X",
            "１５０１０２１９９８０３０１００１Ｘ",
        ],
    )
    def test_id_number_matches_after_normalising(self, typed: str) -> None:
        assert normalize_id_number(typed) == "15010219980301001X"
        assert matches(self.KEY, "id_number", typed, "15010219980301001X")

    def test_wrong_id_number(self) -> None:
        assert not matches(self.KEY, "id_number", "150102199803010029", "15010219980301001X")

    def test_empty_never_matches_empty(self) -> None:
        assert not matches(self.KEY, "name", "", "")
        assert not matches(self.KEY, "id_number", " ", "")

    def test_a_name_is_not_an_id_number(self) -> None:
        assert not matches(self.KEY, "name", "15010219980301001X", "")


class TestQuestion:
    def test_exactly_one_field(self) -> None:
        assert schemas.IdentityQuestion(name="张三").name == "张三"
        for bad in ({}, {"name": "张三", "id_number": "1"}, {"name": "  "}):
            with pytest.raises(ValueError):
                schemas.IdentityQuestion.model_validate(bad)


def row(**changes: object) -> statement.DocumentRow:
    base = statement.DocumentRow(
        id=1,
        kind="certificate",
        number="内蒙西部证〔2022〕第0001号",
        code="7KQ3-M9XD-2HFA-0RTV",
        status="issued",
        status_reason=None,
        status_changed_at=None,
        current_sha256="ab" * 32,
        signing_state="",
        successor_code=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def build(r: statement.DocumentRow, data: object, grades: dict[int, tuple[str, bool]]) -> schemas.Statement:
    return statement.build(
        r,
        data,  # type: ignore[arg-type]
        grades=grades,
        issuer="内蒙古自治区西部计划项目办",
        signers=[],
        document_timestamps=[datetime(2022, 7, 31, 2, 0, tzinfo=UTC)],
        public_url="https://xibu.example.cn/",
    )


QUALIFIED = {1: ("优秀", True), 2: ("合格", True)}


class TestBuild:
    def test_certificate_with_two_qualified_years(self) -> None:
        s = build(row(), sample("certificate"), QUALIFIED)
        assert (s.status, s.status_code) == ("有效", "valid")
        assert s.holder_name == "李*㛃"
        assert s.service is not None and s.service.completed and s.service.length == "2年"
        assert [(y.year, y.grade, y.qualified) for y in s.service.years] == [
            (1, "优秀", True),
            (2, "合格", True),
        ]
        pg, fg = s.eligibility
        assert pg.eligible and pg.rule == rules.POSTGRADUATE_RULE
        assert (pg.window_start, pg.window_end) == (date(2022, 7, 31), date(2025, 7, 30))
        # The sample is a 研究生支教团 member, whose window counts from a graduation we do not know.
        assert fg.eligible and fg.window_start is None and rules.TEACHING_CORPS_WINDOW_NOTE in fg.notes
        assert s.document_timestamps[0].utcoffset() is not None
        assert s.document_timestamps[0].hour == 10, "shown in Beijing time"

    def test_ordinary_volunteer_gets_the_fresh_graduate_window(self) -> None:
        data = sample("certificate")
        plain = dataclasses.replace(data, placement=dataclasses.replace(data.placement, teaching_corps=False))
        _pg, fg = build(row(), plain, QUALIFIED).eligibility
        assert fg.eligible and (fg.window_start, fg.window_end) == (date(2022, 7, 31), date(2024, 7, 30))
        assert "2022年7月31日至2024年7月30日" in fg.conclusion

    def test_unqualified_year_is_the_reason(self) -> None:
        pg, _fg = build(row(), sample("certificate"), {1: ("合格", True), 2: ("基本合格", False)}).eligibility
        assert pg.eligible is False and pg.reasons == ["第2年考核为基本合格"]
        assert pg.conclusion == "不符合：第2年考核为基本合格"
        assert (pg.window_start, pg.window_end) == (None, None), "no window that reads as open"

    def test_missing_appraisal_is_the_reason(self) -> None:
        s = build(row(), sample("certificate"), {1: ("合格", True)})
        assert s.eligibility[0].reasons == ["第2年未考核"]
        assert s.service is not None and s.service.years[1].grade is None

    def test_a_notice_does_not_prove_a_completed_service(self) -> None:
        s = build(row(kind="notice"), sample("notice"), {})
        assert s.service is not None and not s.service.completed and s.service.length is None
        assert len(s.service.years) == 2, "the agreed years, not yet appraised"
        for e in s.eligibility:
            assert e.eligible is None and e.window_start is None and "服务证书" in e.conclusion

    def test_revoked(self) -> None:
        at = datetime(2023, 3, 1, 1, 30, tzinfo=UTC)
        s = build(
            row(status="revoked", status_reason="信息有误", status_changed_at=at),
            sample("certificate"),
            QUALIFIED,
        )
        assert (s.status, s.status_code) == ("已撤销", "revoked")
        assert s.revoked is not None and s.revoked.reason == "信息有误" and s.revoked.at == at
        assert "2023年3月1日" in s.message and "信息有误" in s.message
        assert all(e.eligible is None for e in s.eligibility), "a revoked document proves nothing"

    def test_superseded_links_to_the_new_code(self) -> None:
        r = row(status="superseded", status_reason="更正服务单位", successor_code="AAAA-BBBB-CCCC-DDDD")
        s = build(r, sample("certificate"), QUALIFIED)
        assert (s.status, s.status_code) == ("已被新版本替代", "superseded")
        assert s.superseded is not None and s.superseded.new_code == "AAAA-BBBB-CCCC-DDDD"
        assert s.superseded.new_url == "https://xibu.example.cn/v/AAAA-BBBB-CCCC-DDDD"

    @pytest.mark.parametrize(
        ("status", "signing", "expected"),
        [
            ("issued", "", "valid"),
            ("issued", "completed", "valid"),
            ("issued", "pending", "signing"),
            ("issued", "declined", "declined"),
            ("revoked", "voided", "revoked"),
            ("issued", "voided", "revoked"),
            ("superseded", "voided", "superseded"),
            ("revoked", "", "revoked"),
        ],
    )
    def test_status_of(self, status: str, signing: str, expected: str) -> None:
        assert statement.status_of(row(status=status, signing_state=signing)) == expected

    def test_an_unfinished_agreement_is_not_valid(self) -> None:
        s = build(row(kind="agreement", signing_state="pending"), sample("agreement"), {})
        assert s.status == "签署中" and "暂不生效" in s.message

    @pytest.mark.parametrize("kind", ["notice", "agreement", "appraisal", "evaluation", "certificate"])
    def test_no_personal_data_of_the_sample(self, kind: str) -> None:
        data = sample(kind)
        text = build(row(kind=kind), data, QUALIFIED).model_dump_json()
        person = data.person  # type: ignore[union-attr]
        for secret in (
            person.name,
            person.id_number,
            person.birth_date.isoformat(),
            person.birth_date.strftime("%Y%m%d"),
            f"{person.birth_date.year}年{person.birth_date.month}月",
        ):
            assert secret not in text, f"{secret!r} leaked in the {kind} statement"

    def test_not_found_has_the_statement_shape(self) -> None:
        s = statement.not_found()
        assert (s.status, s.status_code, s.document) == ("未找到", "not_found", None)
        assert set(s.model_dump()) == set(schemas.Statement.model_fields)
