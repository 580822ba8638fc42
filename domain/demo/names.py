"""Chinese names of people and places for demo data, fast and reproducible.

Own lists rather than Faker: 100,000 names must take milliseconds, and a name must depend only
on the random generator it is drawn from (Faker's zh_CN provider draws from a shared state).
The surnames are weighted roughly as in Guizhou, where Buyi and Miao surnames (韦, 罗, 杨, 吴, 龙,
石, 班, 岑, 莫) are common.
"""

from __future__ import annotations

import random
from itertools import accumulate

_SURNAMES = (
    ("王", 60), ("李", 55), ("张", 45), ("刘", 40), ("陈", 40), ("杨", 45), ("黄", 25),
    ("赵", 20), ("吴", 30), ("周", 18), ("罗", 30), ("韦", 25), ("龙", 15), ("石", 12),
    ("徐", 10), ("孙", 10), ("胡", 12), ("朱", 10), ("高", 8), ("林", 8), ("何", 12),
    ("郭", 8), ("马", 8), ("梁", 6), ("宋", 6), ("郑", 6), ("谢", 7), ("唐", 8), ("韩", 5),
    ("冯", 5), ("曹", 5), ("彭", 6), ("曾", 6), ("肖", 6), ("田", 8), ("邓", 7), ("许", 5),
    ("潘", 6), ("蒙", 6), ("班", 5), ("岑", 4), ("莫", 5), ("蔡", 4), ("熊", 5), ("袁", 5),
    ("余", 5), ("卢", 4), ("蒋", 4), ("雷", 4), ("兰", 3), ("姚", 3), ("邹", 3), ("付", 4),
    ("冉", 3), ("敖", 2), ("包", 2), ("柏", 2), ("甘", 2), ("廖", 4), ("欧阳", 1),
)  # fmt: skip
SURNAMES = tuple(s for s, _ in _SURNAMES)
SURNAME_WEIGHTS = tuple(accumulate(w for _, w in _SURNAMES))

_BOY = "子梓浩宇轩俊杰博文涛睿哲一辰鹏晨泽宏明伟志强勇军磊鑫凯瑞航天佳豪思远嘉懿铭翔昊然诚毅"
_GIRL = "欣怡梓涵雨萱思琪诗佳可馨悦婷雅静雪妍晓琳紫嫣梦瑶芳丽娜敏慧彤若依语桐蕊萍秀兰玲艳菲月"
_ADULT_MALE = "国华建军平明文辉勇强伟林刚斌志成德永福光忠海清兴荣"
_ADULT_FEMALE = "秀英丽红芳梅兰玲娟霞艳燕琴云华凤萍春慧敏静珍莉"


def surname(rng: random.Random) -> str:
    return rng.choices(SURNAMES, cum_weights=SURNAME_WEIGHTS)[0]


def given_name(rng: random.Random, male: bool, *, adult: bool = False) -> str:
    pool = (_ADULT_MALE if male else _ADULT_FEMALE) if adult else (_BOY if male else _GIRL)
    if rng.random() < (0.35 if adult else 0.2):
        return rng.choice(pool)
    return rng.choice(pool) + rng.choice(pool)


def person(
    rng: random.Random, male: bool, *, adult: bool = False, family: str | None = None
) -> str:
    return (family or surname(rng)) + given_name(rng, male, adult=adult)


# Places: plausible Guizhou names (several are real Huishui and Nanming places).
PLACES = (
    "和平", "涟江", "濛江", "明田", "好花红", "羡塘", "断杉", "芦山", "王佑", "摆金", "雅水",
    "岗度", "长田", "甲烈", "抵麻", "鸭绒", "宁旺", "太阳", "高镇", "大龙", "新华", "都溪",
    "摆榜", "打引", "甲浪", "翁台", "昌明", "乐旺", "克扬", "沙冲", "望城", "油榨", "兴关",
    "沙南", "龙洞堡", "西湖", "水口寺", "五里冲", "太慈", "湘雅", "二戈", "河滨", "花果园",
    "遵义路", "中华南", "青山", "红岩", "水城", "云关", "小碧", "永乐", "后巢", "新民", "中曹",
    "摆省", "董地", "黔灵", "宅吉", "金关", "头桥", "鸭江", "百鸟河", "斗底", "高坡", "马场",
    "青岩", "燕楼", "久安", "黔陶", "麦坪", "孟关", "石板", "党武", "湖潮", "马铃", "洛北",
)  # fmt: skip
_VILLAGE_FIRST = "大小新上下高平石龙马羊水岩坝田沙青长桥黄白红金凤花竹松"
_VILLAGE_SECOND = "寨坡冲坝田山塘桥湾井岭河场堡关头溪林庄营"


def village(rng: random.Random) -> str:
    return rng.choice(_VILLAGE_FIRST) + rng.choice(_VILLAGE_SECOND)


CHINESE_NUMERALS = "零一二三四五六七八九十"


def numeral(n: int) -> str:
    """1 → 一, 12 → 十二, 23 → 二十三 (enough for classes and teams)."""
    if n <= 10:
        return CHINESE_NUMERALS[n]
    tens, ones = divmod(n, 10)
    return (
        ("" if tens == 1 else CHINESE_NUMERALS[tens])
        + "十"
        + (CHINESE_NUMERALS[ones] if ones else "")
    )
