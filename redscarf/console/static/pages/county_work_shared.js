// What the county's daily-work pages (activities, exchange, tasks, pairings, statistics, audit)
// share: who may do what (mirroring authz/policy.csv, so that nobody is offered a button the
// API would refuse), the viewer's own units, a picker that walks down the county's tree, and
// dates as a county officer types them.

import { ApiError, UserErrors, gql } from "../api.js";
import { STAFF, grantsHere, has, may, within } from "../roles.js";
import { label } from "../labels.js";
import { clear, errorText, h, toast } from "../ui.js";

// --- roles -----------------------------------------------------------------------------------

// `activity write` / `task write` / `statistics read` at a unit and below (policy.csv).
export const ORGANISERS = ["COUNTY_ADMIN", "TOWNSHIP_ADMIN", "BRIGADE_COUNSELOR", "SQUADRON_COUNSELOR"];

export { STAFF, has };

// Does the viewer hold one of `roles` at `path` or above it?
export function reaches(ctx, roles, path) {
  return Boolean(path) && may(ctx, roles, path);
}

// --- the county's tree -----------------------------------------------------------------------

const UNIT = "id name kind path area";
// Kept for the page's life (a reload reads the tree again after units are added or moved).
const childrenCache = new Map(); // county:unit ID → its children
const atCache = new Map(); // county:path → the unit

async function rootUnit(county) {
  const key = `${county}:c`;
  if (!atCache.has(key)) {
    const data = await gql(`{ units(kind: COUNTY, first: 1) { edges { node { ${UNIT} } } } }`);
    const root = data.units.edges[0]?.node;
    if (!root) throw new ApiError("UNIT_NOT_FOUND", "本县（区）还没有组织");
    atCache.set(key, root);
  }
  return atCache.get(key);
}

export async function childrenOf(county, id) {
  const key = `${county}:${id}`;
  if (!childrenCache.has(key)) {
    const data = await gql(`query Children($id: ID!) { unit(id: $id) { children { ${UNIT} } } }`, { id });
    childrenCache.set(key, data.unit?.children ?? []);
  }
  return childrenCache.get(key);
}

// The unit at a path, found by walking down from the county (a role's scope is a path; the API
// looks units up by ID, and each step down reads one unit's children).
export async function unitAt(county, path) {
  const key = `${county}:${path}`;
  if (atCache.has(key)) return atCache.get(key);
  let unit = await rootUnit(county);
  while (unit.path !== path) {
    const next = (await childrenOf(county, unit.id)).find((c) => within(path, c.path));
    if (!next) throw new ApiError("UNIT_NOT_FOUND", "找不到您任职的单位，可能已被撤销");
    unit = next;
  }
  atCache.set(key, unit);
  return unit;
}

// The units where the viewer holds one of `roles` in this county (the county itself for its
// admin), highest first.
export async function myUnits(ctx, roles = STAFF) {
  const scopes = [...new Set(grantsHere(ctx, roles).map((g) => g.scope))]
    .filter((s, _, all) => !all.some((o) => o !== s && within(s, o))); // drop scopes inside others
  const found = await Promise.all(scopes.map((s) => unitAt(ctx.county, s)));
  return found.sort((a, b) => a.path.length - b.path.length);
}

const DEPTH = ["COUNTY", "TOWNSHIP", "COMMUNITY", "BRIGADE", "SQUADRON", "TEAM"];

// A unit chosen step by step: one of the viewer's units, then optionally one of its children,
// and so on down to `deepest`. The chosen ID is in a hidden input named `name` (so a form's
// values carry it); `onchange(unit)` hears every choice.
export function unitPicker(ctx, units, { name = "unitId", deepest = "SQUADRON", onchange } = {}) {
  const hidden = h("input", { type: "hidden", name });
  const box = h("span.unit-picker", hidden);
  const byId = new Map(units.map((u) => [u.id, u]));
  const stopAt = DEPTH.indexOf(deepest);

  function choose(unit) {
    hidden.value = unit.id;
    box.dataset.unit = unit.id;
    onchange?.(unit);
  }

  // One select of `options` (the first is chosen); below it, the chosen unit's children.
  function level(options, first, depth) {
    const sel = h("select", { "aria-label": depth === 0 ? "单位" : "下级单位", dataset: { depth } },
      first ? h("option", { value: first.id }, first.label) : null,
      options.map((u) => h("option", { value: u.id }, `${u.name}（${label("UnitKind", u.kind)}）`)));
    const below = h("span.unit-picker-below");
    async function changed() {
      const unit = byId.get(sel.value);
      clear(below);
      choose(unit);
      if (first && sel.value === first.id) return; // "the unit above, as a whole"
      if (DEPTH.indexOf(unit.kind) >= stopAt) return;
      try {
        const kids = (await childrenOf(ctx.county, unit.id)).filter((c) => DEPTH.indexOf(c.kind) <= stopAt);
        for (const k of kids) byId.set(k.id, k);
        if (kids.length) below.append(level(kids, { id: unit.id, label: "（全部）" }, depth + 1));
      } catch (error) {
        toast(errorText(error), "error");
      }
    }
    sel.addEventListener("change", changed);
    queueMicrotask(() => { if (depth === 0) changed(); });
    return h("span.unit-picker-level", sel, below);
  }

  box.append(level(units, null, 0));
  Object.defineProperty(box, "value", { get: () => hidden.value });
  return box;
}

// --- dates -----------------------------------------------------------------------------------

const pad = (n) => String(n).padStart(2, "0");

export const when = {
  // A Date as a datetime-local input's value (the browser's time zone, as fmt.time shows it).
  input(date) {
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  },
  // A datetime-local value as an ISO instant for the API (null stays null).
  iso(value) {
    return value ? new Date(value).toISOString() : null;
  },
  day(date = new Date()) {
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  },
  addDays(date, days) {
    const d = new Date(date);
    d.setDate(d.getDate() + days);
    return d;
  },
  at(date, hours, minutes = 0) {
    const d = new Date(date);
    d.setHours(hours, minutes, 0, 0);
    return d;
  },
  // The academic year a day falls in (it starts on 1 September; named by its first year).
  academicYear(date = new Date()) {
    return date.getMonth() >= 8 ? date.getFullYear() : date.getFullYear() - 1;
  },
};

// "2026/12/01 09:00 – 12:00" (the day once when both ends fall on it).
export function span(from, to) {
  if (!from) return "—";
  const a = new Date(from);
  const b = to ? new Date(to) : null;
  const day = (d) => `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())}`;
  const time = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (!b) return `${day(a)} ${time(a)}`;
  return day(a) === day(b) ? `${day(a)} ${time(a)}–${time(b)}` : `${day(a)} ${time(a)} – ${day(b)} ${time(b)}`;
}

// --- small pieces ----------------------------------------------------------------------------

// An enum value as a coloured badge: `tones` maps values to ok / warn / bad.
export function stateBadge(type, value, tones = {}) {
  return h(`span.badge${tones[value] ? `.${tones[value]}` : ""}`, { dataset: { state: value } }, label(type, value));
}

// Checkboxes for grades 1–9 (`name` on each, read back with checkedGrades).
export function gradeBoxes(name = "grades", chosen = []) {
  return h("span.grade-boxes", { role: "group", "aria-label": "面向年级" },
    [1, 2, 3, 4, 5, 6, 7, 8, 9].map((g) => h("label.check",
      h("input", { type: "checkbox", value: String(g), dataset: { grade: name }, checked: chosen.includes(g) }),
      `${g}年级`)));
}

export function checkedGrades(formEl, name = "grades") {
  const picked = [...formEl.querySelectorAll(`input[data-grade="${name}"]:checked`)].map((c) => Number(c.value));
  return picked.length ? picked : null;
}

// The API names some refusals without a field: point them at the input they are about, so the
// form shows them beside it (`codes`: error code → input name).
export async function withFields(codes, run) {
  try {
    return await run();
  } catch (error) {
    for (const e of error.errors || []) if (!e.field && codes[e.code]) e.field = codes[e.code];
    throw error;
  }
}

// Ask before something that cannot be undone.
export function sure(message) {
  return window.confirm(message);
}

// Inputs the API requires but a form may leave empty: refused here, beside the field, before
// a request the schema would reject as a whole (`names`: input name → what to fill in).
export function required(values, names) {
  const missing = Object.entries(names).filter(([k]) => values[k] === null || values[k] === undefined);
  if (missing.length) {
    throw new UserErrors(missing.map(([k, what]) => ({ field: k, code: "REQUIRED", message: `请填写${what}` })));
  }
}

// A labelled group of several inputs (a <label> may hold only one), with the error slot of
// the input `name`.
export function group(title, content, name = "", hint = null) {
  return h("div.field", h("span.label", title), content, hint ? h("small.hint", hint) : null,
    h("small.field-error", { dataset: { for: name } }));
}
