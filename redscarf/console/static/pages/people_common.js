// What the county's people pages (organisation, roster, pupil, import) share: who may do what
// where, and how units are named. The API decides in the end; these only keep the console from
// offering what a role may not do (authz/policy.csv).

import { STAFF, grantsHere, may, within } from "../roles.js";

export { STAFF, may, within };

// May create, rename and move units under their own unit.
export const UNIT_WRITERS = ["COUNTY_ADMIN", "TOWNSHIP_ADMIN", "BRIGADE_COUNSELOR"];
// May change pupils under their own unit, unmask their personal fields and issue binding codes.
export const PUPIL_WRITERS = ["COUNTY_ADMIN", "BRIGADE_COUNSELOR", "SQUADRON_COUNSELOR"];

// Short names of the unit kinds as a county officer says them.
export const KIND = {
  COUNTY: "县（区）", TOWNSHIP: "乡镇（街道）", COMMUNITY: "社区", BRIGADE: "大队", SQUADRON: "中队", TEAM: "小队",
};

// The kinds a unit of each kind may hold (the API refuses the others with INVALID_PLACEMENT).
export const CHILD_KINDS = {
  COUNTY: ["TOWNSHIP", "COMMUNITY", "BRIGADE"],
  TOWNSHIP: ["BRIGADE", "COMMUNITY"],
  COMMUNITY: ["BRIGADE"],
  BRIGADE: ["SQUADRON"],
  SQUADRON: ["TEAM"],
  TEAM: [],
};

const GRADE_NAMES = ["一", "二", "三", "四", "五", "六", "七", "八", "九"];
export const gradeName = (g) => (g ? `${GRADE_NAMES[g - 1] || g}年级` : "—");
export const GRADES = GRADE_NAMES.map((_, i) => [String(i + 1), gradeName(i + 1)]);

// The units the person's staff roles are given at (their paths).
export function scopes(ctx) {
  return grantsHere(ctx).filter((g) => STAFF.includes(g.role)).map((g) => g.scope);
}

// Worth showing in a picker: inside a scope, or on the way down to one.
export function onTheWay(path, ctx) {
  return scopes(ctx).some((s) => within(path, s) || within(s, path));
}

// "惠水实验小学 一（1）中队" for a squadron with its school.
export function squadronName(squadron) {
  if (!squadron) return "—";
  return squadron.parent ? `${squadron.parent.name} ${squadron.name}` : squadron.name;
}
