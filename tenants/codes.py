"""Administrative division codes (GB/T 2260) of provinces, prefectures and counties."""

from __future__ import annotations

import re

from redscarf.errors import InvalidInput

PROVINCES: dict[str, str] = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省",
    "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省",
    "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区", "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}  # fmt: skip

_COUNTY = re.compile(r"^\d{6}$")


class InvalidCode(InvalidInput):
    code = "INVALID_ADMIN_CODE"
    message = "行政区划代码格式不正确"


def validate_county_code(code: str) -> str:
    """A county-level code: six digits, a known province, not a province or prefecture code."""
    code = code.strip()
    if not _COUNTY.match(code):
        raise InvalidCode(f"县级行政区划代码应为 6 位数字（GB/T 2260），收到：{code!r}")
    if code[:2] not in PROVINCES:
        raise InvalidCode(f"行政区划代码 {code} 的前两位 {code[:2]} 不是有效的省级代码")
    if code[4:] == "00":
        raise InvalidCode(f"{code} 是省级或地市级代码，不是县级行政区划代码")
    return code


def validate_province_code(code: str) -> str:
    code = code.strip()
    if len(code) == 6 and code.endswith("0000"):
        code = code[:2]
    if code not in PROVINCES:
        raise InvalidCode(f"省级行政区划代码不正确：{code!r}（应为两位，如 46 海南省）")
    return code


def validate_prefecture_code(code: str) -> str:
    code = code.strip()
    if len(code) == 6 and code.endswith("00"):
        code = code[:4]
    if not re.match(r"^\d{4}$", code) or code[:2] not in PROVINCES or code[2:] == "00":
        raise InvalidCode(f"地市级行政区划代码不正确：{code!r}（应为四位，如 3304 嘉兴市）")
    return code


def schema_name(county_code: str) -> str:
    return f"county_{county_code}"
