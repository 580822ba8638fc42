"""Names of people: normalised as entered, and their pinyin for search."""

from __future__ import annotations

import re
import unicodedata

from pypinyin import Style, lazy_pinyin

from redscarf.errors import InvalidInput

# Middle dots of names of Uyghur, Tibetan and foreign origin (阿卜杜·热合曼) come in several forms.
_DOTS = re.compile(r"[·•‧∙・･.．]")
MAX_LENGTH = 50


class InvalidName(InvalidInput):
    code = "INVALID_NAME"
    message = "姓名不正确"


def normalise_name(raw: str) -> str:
    """Full-width letters and spaces folded, the middle dot made one, spaces trimmed."""
    name = unicodedata.normalize("NFKC", raw).strip()
    name = _DOTS.sub("·", re.sub(r"\s+", " ", name))
    if not name:
        raise InvalidName("姓名不能为空")
    if len(name) > MAX_LENGTH:
        raise InvalidName(f"姓名不能超过 {MAX_LENGTH} 个字")
    if any(unicodedata.category(c)[0] in "CN" and c not in " ·" for c in name):
        raise InvalidName("姓名中不能有数字或控制字符")
    return name


def pinyin_of(name: str) -> tuple[str, str]:
    """("wangxiaohong", "wxh"): full pinyin and initials, lower case, letters only."""
    syllables = [s for s in lazy_pinyin(name.replace("·", ""), errors="ignore") if s.isascii()]
    initials = lazy_pinyin(name.replace("·", ""), style=Style.FIRST_LETTER, errors="ignore")
    full = "".join(s for s in syllables if s.isalpha()).lower()
    return full, "".join(i for i in initials if i.isascii() and i.isalpha()).lower()


def search_key(query: str) -> str:
    return unicodedata.normalize("NFKC", query).strip().lower().replace(" ", "")
