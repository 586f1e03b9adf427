"""Invented intake sheets: realistic-looking people who do not exist, for the demo, tests and benchmarks.

Deterministic for a given seed. ID numbers carry valid GB 11643 check digits and agree with birth
date and sex; phone numbers and e-mail addresses are made up (``@example.com``).
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

from service.cohorts.regions import regions
from service.cohorts.rules import id_check_character

HEADERS = [
    "序号", "姓名", "性别", "民族", "政治面貌", "身份证号", "手机号码", "电子邮箱", "毕业院校", "学历", "专业",
    "毕业时间", "项目类型", "专项", "研究生支教团", "服务盟市", "服务旗县", "服务单位", "岗位名称", "县级及以上机关",
    "服务期限(年)", "报到日期",
]  # fmt: skip

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红燕晨宇浩然子涵欣怡梓轩一诺雨桐思远嘉懿"
_RARE = ["𠮷", "䶮", "堃", "㛃", "喆", "昇"]
_ETHNIC = ["汉族"] * 8 + ["蒙古族", "满族", "回族", "达斡尔族"]
_POLITICAL = ["共青团员"] * 6 + ["中共党员", "中共预备党员", "群众"]
_UNIVERSITIES = [
    "内蒙古大学",
    "内蒙古师范大学",
    "内蒙古农业大学",
    "内蒙古工业大学",
    "陕西师范大学",
    "吉林大学",
    "兰州大学",
]
_MAJORS = [
    "汉语言文学",
    "数学与应用数学",
    "农学",
    "临床医学",
    "行政管理",
    "社会工作",
    "计算机科学与技术",
    "英语",
]
_TRACK_UNITS = {
    "基础教育": ("{county}第一中学", "语文教师", False),
    "服务三农": ("{county}农牧和科技局", "农技推广", True),
    "医疗卫生": ("{county}人民医院", "公共卫生服务", False),
    "基层青年工作": ("共青团{county}委员会", "团建专干", True),
    "基层社会管理": ("{county}人民政府办公室", "综合文字", True),
}


def _id_number(rng: random.Random, birth: date, male: bool, league_code: str) -> str:
    seq = rng.randrange(0, 100) * 10 + rng.randrange(0, 5) * 2 + (1 if male else 0)
    first17 = f"{league_code[:4]}{rng.randrange(1, 30):02d}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_character(first17)


def generate_rows(
    count: int, *, seed: int = 2020, start_year: int = 2020, rare_every: int = 7
) -> list[dict[str, str]]:
    """``count`` invented volunteers in the intake sheet's layout, every track and league represented."""
    rng = random.Random(seed)
    leagues = regions().leagues
    tracks = list(_TRACK_UNITS)
    rows = []
    for i in range(1, count + 1):
        league = leagues[i % len(leagues)]
        county = league.counties[(i // len(leagues)) % len(league.counties)]
        male = rng.random() < 0.5
        birth = date(start_year - 23, 1, 1) + timedelta(days=rng.randrange(0, 3 * 365))
        given = "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
        if rare_every and i % rare_every == 0:
            given = rng.choice(_RARE) + given[:1]
        track = tracks[i % len(tracks)]
        unit, post, county_level = _TRACK_UNITS[track]
        rows.append(
            {
                "序号": str(i),
                "姓名": rng.choice(_SURNAMES) + given,
                "性别": "男" if male else "女",
                "民族": rng.choice(_ETHNIC),
                "政治面貌": rng.choice(_POLITICAL),
                "身份证号": _id_number(rng, birth, male, league.code),
                "手机号码": "1" + rng.choice("3578") + "".join(str(rng.randrange(10)) for _ in range(9)),
                "电子邮箱": f"demo{i:04d}@example.com",
                "毕业院校": rng.choice(_UNIVERSITIES),
                "学历": "本科" if rng.random() < 0.8 else "硕士研究生",
                "专业": rng.choice(_MAJORS),
                "毕业时间": f"{start_year}-06",
                "项目类型": "全国项目" if rng.random() < 0.62 else "地方项目",
                "专项": track,
                "研究生支教团": "是" if track == "基础教育" and rng.random() < 0.1 else "否",
                "服务盟市": league.name,
                "服务旗县": county,
                "服务单位": unit.format(county=county),
                "岗位名称": post,
                "县级及以上机关": "是" if county_level and rng.random() < 0.15 else "否",
                "服务期限(年)": str(rng.choice((1, 2, 3))),
                "报到日期": f"{start_year}-07-{rng.randrange(20, 32)}",
            }
        )
    return rows


def to_csv(rows: list[dict[str, str]]) -> bytes:
    """UTF-8 with BOM, as Excel saves it."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=HEADERS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
