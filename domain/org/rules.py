"""Where a unit may sit, and how its path is made."""

from __future__ import annotations

from domain.org.tables import UnitKind
from redscarf.errors import InvalidInput

# The kinds a unit of each kind may hold. Some schools answer to the county directly.
CHILDREN: dict[UnitKind, frozenset[UnitKind]] = {
    UnitKind.COUNTY: frozenset({UnitKind.TOWNSHIP, UnitKind.COMMUNITY, UnitKind.BRIGADE}),
    UnitKind.TOWNSHIP: frozenset({UnitKind.BRIGADE, UnitKind.COMMUNITY}),
    UnitKind.COMMUNITY: frozenset({UnitKind.BRIGADE}),
    UnitKind.BRIGADE: frozenset({UnitKind.SQUADRON}),
    UnitKind.SQUADRON: frozenset({UnitKind.TEAM}),
    UnitKind.TEAM: frozenset(),
}
LABELS = {"county": "county", "township": "乡镇（街道）", "community": "社区", "brigade": "大队",
          "squadron": "中队", "team": "小队"}  # fmt: skip


class InvalidPlacement(InvalidInput):
    code = "INVALID_PLACEMENT"
    message = "单位不能放在这里"


def check_child(parent_kind: str, kind: str) -> None:
    if UnitKind(kind) not in CHILDREN[UnitKind(parent_kind)]:
        raise InvalidPlacement(f"{LABELS[parent_kind]}之下不能设{LABELS[kind]}")


def label(pk: int) -> str:
    """The label of a unit set up or moved through the API: `u` and its key, unique in the
    county for ever (other writers, the demo and imports, use other letters), so a moved
    subtree never meets a sibling of the same label."""
    return f"u{pk}"


def check_unit_fields(kind: str, *, grade: int | None, school_kind: str | None) -> None:
    if grade is not None and (kind != UnitKind.SQUADRON or not 1 <= grade <= 9):
        raise InvalidInput("只有中队有年级，且为 1–9", code="INVALID_GRADE")
    if school_kind is not None and kind != UnitKind.BRIGADE:
        raise InvalidInput("只有大队（学校）有学校类别", code="INVALID_SCHOOL_KIND")
    if kind == UnitKind.SQUADRON and grade is None:
        raise InvalidInput("中队须填写年级", code="INVALID_GRADE")
