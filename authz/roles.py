"""The roles of DESIGN.md ("Who uses it") and the facts about them the policy does not hold."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    OPERATOR = "operator"
    PROVINCE_ADMIN = "province_admin"
    PREFECTURE_ADMIN = "prefecture_admin"
    COUNTY_ADMIN = "county_admin"
    TOWNSHIP_ADMIN = "township_admin"
    BRIGADE_COUNSELOR = "brigade_counselor"
    SQUADRON_COUNSELOR = "squadron_counselor"
    TEAM_COUNSELOR = "team_counselor"
    GUARDIAN = "guardian"
    PARTNER = "partner"


LABELS: dict[Role, str] = {
    Role.OPERATOR: "平台运维",
    Role.PROVINCE_ADMIN: "省级管理员（团省委 / 省少工委）",
    Role.PREFECTURE_ADMIN: "地市管理员（团市委 / 市少工委）",
    Role.COUNTY_ADMIN: "县级管理员（县少工委）",
    Role.TOWNSHIP_ADMIN: "乡镇（街道）/社区管理员",
    Role.BRIGADE_COUNSELOR: "大队辅导员",
    Role.SQUADRON_COUNSELOR: "中队辅导员",
    Role.TEAM_COUNSELOR: "小队 / 校外辅导员",
    Role.GUARDIAN: "家长",
    Role.PARTNER: "社会单位",
}

# Their scope is a province or prefecture code; every other role's is a unit path in a county.
REGIONAL = frozenset({Role.PROVINCE_ADMIN, Role.PREFECTURE_ADMIN})

# 等保 level 3 asks a second factor of administrators.
MFA_REQUIRED = frozenset({Role.PROVINCE_ADMIN, Role.PREFECTURE_ADMIN, Role.COUNTY_ADMIN})

# The unit kinds a county role may be assigned at (team counselors also lead activities and
# outside bases, so theirs may be any unit below the county).
UNIT_KINDS: dict[Role, frozenset[str]] = {
    Role.COUNTY_ADMIN: frozenset({"county"}),
    Role.TOWNSHIP_ADMIN: frozenset({"township", "community"}),
    Role.BRIGADE_COUNSELOR: frozenset({"brigade"}),
    Role.SQUADRON_COUNSELOR: frozenset({"squadron"}),
    Role.TEAM_COUNSELOR: frozenset({"township", "community", "brigade", "squadron", "team"}),
    Role.GUARDIAN: frozenset({"county"}),
}
# A partner's staff are scoped to the partner itself (`domain.exchange.service.partner_scope`).
