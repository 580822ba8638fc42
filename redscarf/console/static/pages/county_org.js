// 组织架构: the county's tree of units (county → township/community → school brigade →
// squadron → team) with pupil and counselor counts. A county may have a thousand squadrons and
// more, so a unit's children are asked for only when it is opened; the way down to the person's
// own unit opens by itself. Admins who may change the tree add a unit under one in place.

import { gql, mutate } from "../api.js";
import { label, options } from "../labels.js";
import { clear, errorBox, field, figure, fmt, form, h, input, loading, section, select, toast } from "../ui.js";
import { CHILD_KINDS, GRADES, KIND, STAFF, UNIT_WRITERS, gradeName, may, scopes, within } from "./people_common.js";

// What a row of the tree shows; `children { id }` only says whether it can be opened.
const NODE = `id name kind area schoolKind grade path pupilCount counselorCount children { id }`;

const ROOT = `query OrgRoot {
  county { name unitCounts { kind count } pupilCount counselorCount }
  units(first: 1, kind: COUNTY) { edges { node { ${NODE} } } }
}`;

const CHILDREN = `query OrgChildren($id: ID!) { unit(id: $id) { id children { ${NODE} } } }`;

const CREATE = `mutation CreateUnit($input: CreateUnitInput!) {
  createUnit(input: $input) { unit { id name kind } userErrors { field code message } }
}`;

function figures(county) {
  const count = (kind) => county.unitCounts.find((c) => c.kind === kind)?.count ?? 0;
  const shown = (n, t) => figure(t, fmt.number(n));
  return h("div.figures",
    shown(count("TOWNSHIP"), "乡镇（街道）"),
    shown(count("COMMUNITY"), "社区"),
    shown(count("BRIGADE"), "学校（大队）"),
    shown(count("SQUADRON"), "中队"),
    shown(count("TEAM"), "小队"),
    county.pupilCount === null ? null : shown(county.pupilCount, "在册队员"),
    county.counselorCount === null ? null : shown(county.counselorCount, "辅导员"));
}

// The facts after a unit's name: kind, school kind, grade, urban/rural, counts.
function facts(unit) {
  const parts = [h("span.badge.kind", KIND[unit.kind] || unit.kind)];
  if (unit.schoolKind) parts.push(h("span.badge", label("SchoolKind", unit.schoolKind)));
  if (unit.grade) parts.push(h("span.tag", gradeName(unit.grade)));
  if (unit.area) parts.push(h("span.tag", label("Area", unit.area)));
  const counts = [];
  if (unit.pupilCount !== null) counts.push(`队员 ${fmt.number(unit.pupilCount)}`);
  if (unit.counselorCount !== null) counts.push(`辅导员 ${fmt.number(unit.counselorCount)}`);
  if (unit.children.length) counts.push(`下级 ${unit.children.length} 个`);
  if (counts.length) parts.push(h("span.count", counts.join(" · ")));
  return parts;
}

// The form to set up a unit under `parent`; `done(unit)` once the API has made it.
function addUnitForm(parent, done, cancel) {
  const kinds = CHILD_KINDS[parent.kind];
  const kind = select("kind", kinds.map((k) => [k, KIND[k]]));
  const grade = field("年级", select("grade", [["", "请选择"], ...GRADES]), "中队须填写年级");
  const schoolKind = field("学校类别", select("schoolKind", [["", "不填"], ...options("SchoolKind")]));
  const area = field("城乡属性", select("area", [["", `随上级（${label("Area", parent.area)}）`], ...options("Area")]));
  const sync = () => {
    grade.hidden = kind.value !== "SQUADRON";
    schoolKind.hidden = kind.value !== "BRIGADE";
  };
  kind.addEventListener("change", sync);
  sync();
  const f = form([
    h("p.hint", `在“${parent.name}”之下新设：`),
    field("层级", kind),
    field("名称", input("name", { required: true, maxlength: 100, placeholder: "如 城关第一小学、三（2）中队" })),
    grade, schoolKind, area,
  ], async (v) => {
    const payload = await mutate(CREATE, {
      input: {
        parentId: parent.id,
        kind: v.kind,
        name: v.name || "",
        area: v.area,
        schoolKind: v.kind === "BRIGADE" ? v.schoolKind : null,
        grade: v.kind === "SQUADRON" && v.grade ? Number(v.grade) : null,
      },
    }, "createUnit");
    toast(`已新设${KIND[payload.unit.kind]}：${payload.unit.name}`);
    done(payload.unit);
  }, "新设");
  f.querySelector(".actions").append(h("button", { type: "button", onclick: cancel }, "取消"));
  return h("div.add-unit", f);
}

// Classes by grade, then 一（2） before 一（10）; other units in the tree's own order.
function sortedChildren(children) {
  if (!children.every((c) => c.kind === "SQUADRON")) return children;
  return [...children].sort((a, b) => a.grade - b.grade || a.name.localeCompare(b.name, "zh-CN", { numeric: true }));
}

// One unit of the tree, its children loaded the first time it opens.
function unitNode(unit, ctx) {
  const sub = h("ul", { role: "group", hidden: true });
  const extra = h("div.node-extra");
  let loaded = false;
  let open = false;
  const toggle = h("button.toggle", {
    type: "button", "aria-expanded": "false", "aria-label": `展开 ${unit.name}`,
    hidden: !unit.children.length, onclick: () => expand(!open),
  }, "▸");

  async function load() {
    clear(sub, h("li.loading", "加载中…"));
    try {
      const data = await gql(CHILDREN, { id: unit.id });
      const children = sortedChildren(data.unit?.children ?? []);
      unit.children = children;
      clear(sub, children.length ? children.map((c) => unitNode(c, ctx)) : h("li.empty", "没有下级单位"));
      loaded = true;
      // Open the way down to the person's own unit (a squadron counselor lands on the class).
      for (const li of sub.children) {
        const path = li.dataset.path;
        if (path && scopes(ctx).some((s) => within(s, path) && s !== path)) li.expand?.(true);
      }
    } catch (error) {
      clear(sub, h("li", errorBox(error)));
    }
  }

  async function expand(wanted) {
    open = wanted;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.setAttribute("aria-label", `${open ? "收起" : "展开"} ${unit.name}`);
    toggle.textContent = open ? "▾" : "▸";
    sub.hidden = !open;
    if (open && !loaded) await load();
  }

  const canAdd = may(ctx, UNIT_WRITERS, unit.path) && CHILD_KINDS[unit.kind].length > 0;
  const addButton = canAdd ? h("button.link", {
    type: "button", dataset: { action: "add-unit" },
    onclick: () => {
      clear(extra, addUnitForm(unit, async () => {
        clear(extra);
        toggle.hidden = false;
        loaded = false;
        await expand(true);
      }, () => clear(extra)));
      extra.querySelector("input[name=name]")?.focus();
    },
  }, "新设下级单位") : null;

  const mine = scopes(ctx).includes(unit.path);
  const li = h("li.unit", { dataset: { path: unit.path, kind: unit.kind } },
    h(`div.node-row${mine ? ".mine" : ""}`,
      toggle,
      h("span.name", unit.name),
      mine ? h("span.badge.ok", "我的单位") : null,
      facts(unit),
      h("span.node-actions",
        h("a", { href: `#/county/roster/${encodeURIComponent(unit.id)}` }, "查看名册"),
        addButton)),
    extra,
    sub);
  li.expand = expand;
  return li;
}

async function render(el, params, ctx) {
  await loading(el, async () => {
    const data = await gql(ROOT);
    const root = data.units.edges[0]?.node;
    if (!root) return [h("h1", "组织架构"), h("p.empty", "本县（区）还没有登记组织")];
    const top = unitNode(root, ctx);
    const page = [
      h("h1", `${data.county.name} · 组织架构`),
      figures(data.county),
      section("组织树",
        h("p.hint", "点击 ▸ 展开下级单位；“查看名册”列出该单位之下的队员。"),
        h("div.tree.org-tree", h("ul", { role: "tree" }, top))),
    ];
    top.expand(true);
    return page;
  });
}

export const pages = [
  { path: "county/org", title: "组织架构", menu: "county", roles: STAFF, render },
];
