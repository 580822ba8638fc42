"""The national badge ladder seeded into every county on provisioning.

Basic badges come in three families of four (红旗, 红星, 火炬), awarded per term by the school;
above them the five star levels. Names and criteria are the county's to edit (issue 5); the
codes are stable.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert

from domain.badges.tables import BadgeLevel, badges

FAMILIES = (("hongqi", "红旗"), ("hongxing", "红星"), ("huoju", "火炬"))
STARS = (
    (BadgeLevel.STAR1, "一星章", "由中队评定"),
    (BadgeLevel.STAR2, "二星章", "由学校（大队）评定"),
    (BadgeLevel.STAR3, "三星章", "由县级少工委评定"),
    (BadgeLevel.STAR4, "四星章", "由省级少工委评定"),
    (BadgeLevel.STAR5, "五星章", "由全国少工委评定"),
)
NUMERALS = "一二三四"


def national_ladder() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    order = 0
    for family, label in FAMILIES:
        for i in range(4):
            order += 1
            rows.append(
                {
                    "code": f"basic.{family}.{i + 1}",
                    "name": f"{label}章（{NUMERALS[i]}）",
                    "level": BadgeLevel.BASIC.value,
                    "family": family,
                    "sort_order": order,
                    "criteria": "基础章，由学校按学期评定",
                    "national": True,
                }
            )
    for level, name, criteria in STARS:
        order += 1
        rows.append(
            {
                "code": f"star.{level.value[-1]}",
                "name": name,
                "level": level.value,
                "family": None,
                "sort_order": order,
                "criteria": criteria,
                "national": True,
            }
        )
    return rows


def seed_national_ladder(conn: Connection) -> int:
    """Insert the ladder; badges already there are left as the county edited them."""
    stmt = insert(badges).values(national_ladder()).on_conflict_do_nothing(index_elements=["code"])
    return conn.execute(stmt).rowcount
