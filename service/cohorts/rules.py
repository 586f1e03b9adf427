"""The programme's rules as pure functions: no database, no clock, no I/O.

Each rule cites the clause of the 2020–2021 Inner Mongolia implementation plan (实施方案, 内团联发〔2020〕10号)
or the national standard it rests on. Import, the API and documents all call these; nothing else
re-implements them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

# --- identity: GB 11643-1999 resident ID numbers -------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# First two digits: province-level codes of GB/T 2260 (11 Beijing … 65 Xinjiang, 71/81/82/83).
_PROVINCE_CODES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54}
    | {61, 62, 63, 64, 65, 71, 81, 82, 83}
)


class RuleViolation(ValueError):
    """A rule said no. ``message`` is Chinese, for the person who must fix the data."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class IdNumber:
    value: str
    birth_date: date
    sex: str  # 男 | 女


def id_check_character(first17: str) -> str:
    """GB 11643-1999 ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def parse_id_number(value: str, *, today: date | None = None) -> IdNumber:
    """Validate an 18-character ID number (GB 11643-1999) and read birth date and sex from it.

    ``value`` must already be cleaned (upper-case X, half-width digits). ``today`` bounds the birth
    date; without it only the calendar is checked.
    """
    if len(value) != 18:
        raise RuleViolation(f"身份证号应为18位，实际为{len(value)}位", "id_length")
    if not value[:17].isdigit() or not value[:17].isascii():
        raise RuleViolation("身份证号前17位应全部为数字", "id_digits")
    if value[17] not in "0123456789X":
        raise RuleViolation("身份证号第18位（校验码）应为数字或X", "id_check_char")
    if int(value[:2]) not in _PROVINCE_CODES:
        raise RuleViolation(f"身份证号前两位“{value[:2]}”不是有效的省级行政区划代码", "id_region")
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise RuleViolation(f"身份证号中的出生日期“{value[6:14]}”不存在", "id_birth_date") from None
    if birth.year < 1900 or (today is not None and birth > today):
        raise RuleViolation(f"身份证号中的出生日期“{value[6:14]}”不可能", "id_birth_date")
    expected = id_check_character(value[:17])
    if value[17] != expected:
        raise RuleViolation(f"身份证号校验码错误（按前17位应为{expected}）", "id_checksum")
    sex = "男" if int(value[16]) % 2 == 1 else "女"
    return IdNumber(value=value, birth_date=birth, sex=sex)


def mask_id_number(value: str) -> str:
    """First 6 and last 4 characters at most, for list views of roles that do not need the number."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) == 11 else "*" * len(value)


# --- organizations: GB 32100-2015 unified social credit codes ------------------------------------

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_character(first17: str) -> str:
    """GB 32100-2015 check character (MOD 31) for the first 17 characters."""
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    """Return the code if it is a well-formed 统一社会信用代码, else raise RuleViolation."""
    if len(value) != 18:
        raise RuleViolation(f"统一社会信用代码应为18位，实际为{len(value)}位", "uscc_length")
    bad = [c for c in value if c not in _USCC_CHARS]
    if bad:
        raise RuleViolation(
            f"统一社会信用代码含有不允许的字符“{bad[0]}”（不使用I、O、Z、S、V）", "uscc_chars"
        )
    expected = credit_code_check_character(value[:17])
    if value[17] != expected:
        raise RuleViolation(f"统一社会信用代码校验码错误（应为{expected}）", "uscc_checksum")
    return value


# --- service length and yearly agreements (实施方案 一: 服务期为1至3年，服务协议一年一签) ----------------

MIN_SERVICE_YEARS = 1
MAX_SERVICE_YEARS = 3


def check_service_years(years: int) -> int:
    """实施方案 一: 西部计划志愿者服务期为1至3年."""
    if not MIN_SERVICE_YEARS <= years <= MAX_SERVICE_YEARS:
        raise RuleViolation(f"服务期限应为1至3年，实际为{years}", "service_years")
    return years


def add_years(day: date, years: int) -> date:
    """Same calendar day ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class AgreementPeriod:
    year: int  # 1-based: 第N年
    of_years: int
    start: date
    end: date  # inclusive


def agreement_periods(report_date: date, agreed_years: int) -> list[AgreementPeriod]:
    """One agreement per service year (实施方案 一: 服务协议一年一签), counted from the report date.

    Service and seniority count from the day the volunteer reports (实施方案 三(一)4).
    """
    check_service_years(agreed_years)
    return [
        AgreementPeriod(
            year=n,
            of_years=agreed_years,
            start=add_years(report_date, n - 1),
            end=add_years(report_date, n) - timedelta(days=1),
        )
        for n in range(1, agreed_years + 1)
    ]


def service_end(report_date: date, years: int) -> date:
    """Last day of a service that began on ``report_date`` and lasted ``years`` full years."""
    return add_years(report_date, years) - timedelta(days=1)


def full_years_served(report_date: date, last_day: date) -> int:
    """Whole years from the report date to ``last_day`` inclusive (实施方案 三(一)4: 依实际服务年限计算)."""
    years = last_day.year - report_date.year
    if add_years(report_date, years) - timedelta(days=1) > last_day:
        years -= 1
    return max(years, 0)


# --- tracks and project types (实施方案 一 and 附件1) -------------------------------------------------

# 基础教育…基层社会管理 are this plan's tracks; 服务新疆 and 服务西藏 are national tracks that volunteers
# recruited in Inner Mongolia may also serve in.
TRACKS = ("基础教育", "服务三农", "医疗卫生", "基层青年工作", "基层社会管理", "服务新疆", "服务西藏")
PROJECT_TYPES = ("全国项目", "地方项目")


# --- caps on posts and appraisals ------------------------------------------------------------------

COUNTY_LEVEL_POST_CAP = 0.10  # 实施方案 二(一)2: 县级及以上机关岗位数须严格控制在10%以内
EXCELLENT_CAP = 0.20  # 实施方案 三(三): 优秀等次…原则上不超过当期在岗志愿者人数的20%


@dataclass(frozen=True)
class CountyPostShare:
    league: str
    county: str
    total: int
    county_level: int
    allowed: int

    @property
    def share(self) -> float:
        return self.county_level / self.total if self.total else 0.0

    @property
    def over_cap(self) -> bool:
        return self.county_level > self.allowed

    def message(self) -> str:
        return (
            f"{self.league}{self.county}：县级及以上机关岗位{self.county_level}个，占{self.share:.0%}，"
            f"超过10%上限（最多{self.allowed}个，共{self.total}个岗位）"
        )


def county_level_post_shares(posts: Iterable[tuple[str, str, bool]]) -> list[CountyPostShare]:
    """Per county: how many placements are in organs at county level or above, against the 10% cap.

    ``posts`` yields (league, county, county_level) for each volunteer placement. 实施方案 二(一)2.
    """
    totals: dict[tuple[str, str], list[int]] = {}
    for league, county, county_level in posts:
        entry = totals.setdefault((league, county), [0, 0])
        entry[0] += 1
        entry[1] += int(county_level)
    return [
        CountyPostShare(league, county, total, level, math.floor(total * COUNTY_LEVEL_POST_CAP + 1e-9))
        for (league, county), (total, level) in sorted(totals.items())
    ]


def excellent_allowed(serving: int) -> int:
    """How many 优秀 grades a cohort of ``serving`` volunteers may hold. 实施方案 三(三)."""
    return math.floor(serving * EXCELLENT_CAP + 1e-9)


def check_excellent_cap(serving: int, excellent_now: int, adding: int) -> None:
    """Refuse ``adding`` more 优秀 grades when that would pass 20% of serving volunteers. 实施方案 三(三)."""
    allowed = excellent_allowed(serving)
    if excellent_now + adding > allowed:
        raise RuleViolation(
            f"优秀等次已有{excellent_now}人，本次新增{adding}人将超过在岗志愿者{serving}人的20%上限（最多{allowed}人）",
            "excellent_cap",
        )


# --- policy eligibility (实施方案 三(一)) ---------------------------------------------------------------


@dataclass(frozen=True)
class YearGrade:
    year: int
    grade: str | None  # None: not yet appraised
    qualified: bool


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    rule: str
    window_start: date | None = None
    window_end: date | None = None
    reasons: list[str] = field(default_factory=list)
    #: Conditions the rule names that the records cannot show; the reader must check them elsewhere.
    notes: list[str] = field(default_factory=list)


POSTGRADUATE_RULE = "实施方案 三(一)1：服务2年以上且考核合格的，服务期满后3年内报考硕士研究生的，初试总分加10分，同等条件下优先录取。"
FRESH_GRADUATE_RULE = (
    "实施方案 三(一)2：参加西部计划项目前无工作经历的志愿者服务期满且考核合格后2年内（研究生支教团志愿者自研究生毕业时开始计算），"
    "在参加机关事业单位考录（招聘）、各类企业吸纳就业、自主创业、落户、升学等方面可同等享受应届高校毕业生的相关政策。"
)


def _unqualified_years(grades: Iterable[YearGrade], years_served: int) -> list[str]:
    by_year: Mapping[int, YearGrade] = {g.year: g for g in grades}
    reasons = []
    for year in range(1, years_served + 1):
        g = by_year.get(year)
        if g is None or g.grade is None:
            reasons.append(f"第{year}年未考核")
        elif not g.qualified:
            reasons.append(f"第{year}年考核为{g.grade}")
    return reasons


def postgraduate_bonus(report_date: date, last_day: date | None, grades: Iterable[YearGrade]) -> Eligibility:
    """+10 points in the postgraduate entrance exam. 实施方案 三(一)1.

    Needs ≥ 2 full years served, every served year assessed qualified, and the exam taken within
    3 years after the service ends. ``last_day`` is None while the volunteer is still serving.
    """
    if last_day is None:
        return Eligibility(False, POSTGRADUATE_RULE, reasons=["服务尚未期满"])
    served = full_years_served(report_date, last_day)
    reasons = [] if served >= 2 else [f"实际服务{served}年，不满2年"]
    reasons += _unqualified_years(grades, served)
    start = last_day + timedelta(days=1)
    return Eligibility(not reasons, POSTGRADUATE_RULE, start, add_years(last_day, 3), reasons)


NO_PRIOR_WORK_NOTE = "“参加项目前无工作经历”未在系统中登记，享受应届毕业生政策前须另行核实"
TEACHING_CORPS_WINDOW_NOTE = (
    "研究生支教团志愿者的2年期限自研究生毕业时开始计算，系统未登记研究生毕业时间，期限须另行核实"
)


def fresh_graduate_treatment(
    report_date: date,
    last_day: date | None,
    grades: Iterable[YearGrade],
    *,
    graduate_corps_graduation: date | None = None,
    teaching_corps: bool = False,
) -> Eligibility:
    """Treated as a fresh graduate for 2 years after completing service assessed qualified. 实施方案 三(一)2.

    For 研究生支教团 members the 2 years count from their postgraduate graduation, which the caller
    passes as ``graduate_corps_graduation`` when known. A member (``teaching_corps``) whose graduation
    is not known gets no window at all rather than one counted from the wrong day. The clause's other
    condition, no work experience before the programme, is not in the records: it comes back as a note.
    """
    notes = [NO_PRIOR_WORK_NOTE]
    if last_day is None:
        return Eligibility(False, FRESH_GRADUATE_RULE, reasons=["服务尚未期满"], notes=notes)
    served = full_years_served(report_date, last_day)
    reasons = [] if served >= 1 else ["实际服务不满1年"]
    reasons += _unqualified_years(grades, served)
    if teaching_corps and graduate_corps_graduation is None:
        return Eligibility(
            not reasons, FRESH_GRADUATE_RULE, None, None, reasons, [*notes, TEACHING_CORPS_WINDOW_NOTE]
        )
    start = graduate_corps_graduation or (last_day + timedelta(days=1))
    return Eligibility(
        not reasons, FRESH_GRADUATE_RULE, start, add_years(start, 2) - timedelta(days=1), reasons, notes
    )


@dataclass(frozen=True)
class ServiceLength:
    """Whole years and the days beyond them, as 依实际服务年限计算 (实施方案 三(一)4) counts service."""

    years: int
    days: int

    def text(self) -> str:
        if self.years and self.days:
            return f"{self.years}年{self.days}天"
        return f"{self.years}年" if self.years else f"{self.days}天"


def service_length(report_date: date, last_day: date) -> ServiceLength:
    """Length of a service from ``report_date`` to ``last_day`` inclusive. 实施方案 三(一)4."""
    years = full_years_served(report_date, last_day)
    return ServiceLength(years, max((last_day - add_years(report_date, years)).days + 1, 0))


# --- cohort calendar ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortCalendar:
    signing_deadline: date
    report_window_start: date
    report_window_end: date


def default_calendar(start_year: int) -> CohortCalendar:
    """实施方案 二(三)1: 7月20日至31日集中报到; 二(三)3: 8月14日之前签订三方服务协议."""
    return CohortCalendar(date(start_year, 8, 14), date(start_year, 7, 20), date(start_year, 7, 31))


def parse_cohort_code(code: str) -> int:
    """'2020-2021' → 2020. A cohort code is two consecutive years."""
    parts = code.split("-")
    if (
        len(parts) != 2
        or not all(p.isascii() and p.isdigit() and len(p) == 4 for p in parts)
        or int(parts[1]) != int(parts[0]) + 1
    ):
        raise RuleViolation(f"年度“{code}”格式应为“2020-2021”", "cohort_code")
    return int(parts[0])
