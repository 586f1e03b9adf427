"""What a verifier may see of the holder: a masked name, and nothing else that identifies them.

The one place that decides it. A verifier compares the masked name with the person in front of
them (张*明 for 张晓明); the full name, ID number, birth date, phone, e-mail and address never
leave the server through the public lookup. Pure functions: no database, no settings.
"""

from __future__ import annotations

import unicodedata

__all__ = ["COMPOUND_SURNAMES", "NAME_SEPARATORS", "mask_name"]

MASK = "*"

# Middle dots and look-alikes that separate the parts of transliterated names (阿依古丽·买买提).
NAME_SEPARATORS = frozenset("·•・‧∙⋅.．")

# Two-character surnames common enough to matter (百家姓 and those seen in records). A name that
# starts with one keeps both characters visible, as 张*明 keeps the single-character surname 张.
COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
        "司徒", "司空", "令狐", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "呼延", "百里",
        "澹台", "公冶", "太史", "申屠", "钟离", "闻人", "赫连", "濮阳", "万俟", "单于", "拓跋",
        "东郭", "公羊", "淳于", "仲孙", "左丘", "第五", "谷梁", "宰父", "巫马", "亓官", "羊舌",
    }
)  # fmt: skip


def _mask_plain(name: str) -> str:
    """A name without separators: surname and last character shown, the rest masked."""
    n = len(name)
    if n <= 1:
        return MASK * n  # a one-character name shown would be the whole name
    if n >= 3 and name[:2] in COMPOUND_SURNAMES:
        # 欧阳娜 → 欧阳*, 欧阳娜娜 → 欧阳*娜, 司马相如 → 司马*如
        return name[:2] + MASK if n == 3 else name[:2] + MASK * (n - 3) + name[-1]
    if n == 2:
        return name[0] + MASK  # 张三 → 张*
    return name[0] + MASK * (n - 2) + name[-1]  # 张晓明 → 张*明, 乌云其木格 → 乌***格


def _mask_parts(name: str) -> str:
    """A name in parts (阿依古丽·买买提): first and last character of the whole shown, separators kept."""
    letters = [i for i, c in enumerate(name) if c not in NAME_SEPARATORS]
    if len(letters) <= 2:
        keep = set(letters[:1]) if len(letters) == 2 else set()
    else:
        keep = {letters[0], letters[-1]}
    return "".join(c if (c in NAME_SEPARATORS or i in keep) else MASK for i, c in enumerate(name))


def mask_name(name: str) -> str:
    """The holder's name as the public lookup shows it.

    张晓明 → 张*明; 张三 → 张*; 欧阳娜娜 → 欧阳*娜; 阿依古丽·买买提 → 阿***·**提; a single
    character is masked whole. Full-width and look-alike forms are folded first (NFKC), so the
    separators are found however the name was typed.
    """
    clean = unicodedata.normalize("NFKC", name).strip()
    clean = "".join(c for c in clean if not c.isspace())
    if any(c in NAME_SEPARATORS for c in clean):
        return _mask_parts(clean)
    return _mask_plain(clean)
