// 队员名册: the pupils the person may see (the API lists only those: a squadron counselor's
// class, a school's pupils for its brigade counselor, the county for its admin), searched by
// name or pinyin initials, filtered by grade, status and unit, page by page, and as Excel.
// `county/roster/<unit ID>` opens it already narrowed to a unit (from the organisation tree).

import { download, gql } from "../api.js";
import { label, options } from "../labels.js";
import { act, clear, fmt, h, input, pager, select, table } from "../ui.js";
import { GRADES, KIND, STAFF, gradeName, onTheWay, squadronName } from "./people_common.js";

const PAGE_SIZE = 30;

const ROSTER = `query Roster($first: Int, $after: String, $search: String, $grade: Int,
    $status: PupilStatus, $under: ID) {
  pupils(first: $first, after: $after, search: $search, grade: $grade, status: $status, under: $under) {
    totalCount
    edges { node { id name gender grade status joinedOn squadron { id name parent { name } } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const SCHOOLS = `query Schools($after: String) {
  units(first: 100, after: $after, kind: BRIGADE) {
    edges { node { id name path parent { name kind } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const SQUADRONS = `query Squadrons($id: ID!) { unit(id: $id) { children { id name grade path kind } } }`;

const UNIT = `query RosterUnit($id: ID!) {
  unit(id: $id) { id name kind path parent { id name kind parent { id kind } } }
}`;

const STATUS_BADGE = { MEMBER: "ok", PRE_MEMBER: "warn" };

// Every school the person reaches (or whose squadron they reach), in the tree's order.
async function schoolsInReach(ctx) {
  const found = [];
  let after = null;
  do {
    const data = await gql(SCHOOLS, { after });
    found.push(...data.units.edges.map((e) => e.node));
    after = data.units.pageInfo.hasNextPage ? data.units.pageInfo.endCursor : null;
  } while (after);
  return found.filter((s) => onTheWay(s.path, ctx));
}

// Schools grouped under their township or community, as <optgroup>s.
function schoolOptions(schools) {
  const groups = new Map();
  for (const s of schools) {
    const key = s.parent && s.parent.kind !== "COUNTY" ? s.parent.name : "县（区）直属";
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(s);
  }
  return [h("option", { value: "" }, "全部学校"),
    [...groups].map(([name, list]) => h("optgroup", { label: name },
      list.map((s) => h("option", { value: s.id }, s.name))))];
}

function columns() {
  return [
    ["姓名", (p) => h("a", { href: `#/county/pupils/${encodeURIComponent(p.id)}` }, p.name)],
    ["性别", (p) => label("Gender", p.gender)],
    ["年级", (p) => gradeName(p.grade)],
    ["中队", (p) => squadronName(p.squadron)],
    ["状态", (p) => h(`span.badge.${STATUS_BADGE[p.status] || "muted"}`, label("PupilStatus", p.status))],
    ["入队日期", (p) => fmt.date(p.joinedOn)],
  ];
}

// Where a unit named in the address sits: its school and squadron for the pickers, or itself
// (a township, a team) shown as a removable scope.
async function placeOf(id) {
  const { unit } = await gql(UNIT, { id });
  if (!unit) return null;
  if (unit.kind === "BRIGADE") return { unit, school: unit.id, squadron: "" };
  if (unit.kind === "SQUADRON") return { unit, school: unit.parent?.id || "", squadron: unit.id };
  return { unit, school: "", squadron: "" };
}

async function render(el, params, ctx) {
  clear(el, h("h1", "队员名册"), h("p.loading", "加载中…"));
  const [schools, place] = await Promise.all([
    schoolsInReach(ctx),
    params.under ? placeOf(params.under) : null,
  ]);

  const search = input("search", {
    type: "search", placeholder: "姓名或拼音首字母，如 张三、zs", "aria-label": "查找队员", autocomplete: "off",
  });
  const grade = select("grade", [["", "全部年级"], ...GRADES], { "aria-label": "年级" });
  const status = select("status", [["", "全部状态"], ...options("PupilStatus")], { "aria-label": "状态" });
  const school = h("select", { name: "school", "aria-label": "学校" }, schoolOptions(schools));
  const squadron = h("select", { name: "squadron", "aria-label": "中队", disabled: true },
    h("option", { value: "" }, "全部中队"));
  // A unit from the address that the pickers cannot show (a township, a team).
  let fixedUnit = place && !place.school ? place.unit : null;
  const scopeChip = h("span.scope-chip");
  const summary = h("p.summary", { role: "status" });
  const results = h("div.results");

  async function loadSquadrons(schoolId, selected = "") {
    clear(squadron, h("option", { value: "" }, "全部中队"));
    squadron.disabled = !schoolId;
    if (!schoolId) return;
    const data = await gql(SQUADRONS, { id: schoolId });
    const list = (data.unit?.children ?? []).filter((u) => u.kind === "SQUADRON" && onTheWay(u.path, ctx));
    const schoolName = schools.find((s) => s.id === schoolId)?.name ?? "";
    squadron.append(...list.map((u) => h("option",
      { value: u.id, selected: u.id === selected, dataset: { full: `${schoolName}${u.name}` } }, u.name)));
  }

  // The narrowest unit chosen, and its name for the file name.
  function chosenUnit() {
    if (squadron.value) return { id: squadron.value, name: squadron.selectedOptions[0].dataset.full };
    if (school.value) return { id: school.value, name: school.selectedOptions[0].text };
    if (fixedUnit) return { id: fixedUnit.id, name: fixedUnit.name };
    return null;
  }

  function showScopeChip() {
    clear(scopeChip, fixedUnit ? [`范围：${KIND[fixedUnit.kind] || ""} ${fixedUnit.name} `,
      h("button.link", { type: "button", onclick: () => { fixedUnit = null; showScopeChip(); refresh(); } }, "清除")] : null);
    scopeChip.hidden = !fixedUnit;
  }

  function variables(after) {
    return {
      first: PAGE_SIZE,
      after,
      search: search.value.trim() || null,
      grade: grade.value ? Number(grade.value) : null,
      status: status.value || null,
      under: chosenUnit()?.id ?? null,
    };
  }

  let generation = 0; // a slow answer to an older search must not overwrite a newer one
  function refresh() {
    const mine = ++generation;
    const filtered = Boolean(search.value.trim() || grade.value || status.value || chosenUnit());
    clear(results, pager(async (after) => {
      const { pupils } = await gql(ROSTER, variables(after));
      if (mine !== generation) return pupils;
      summary.dataset.total = String(pupils.totalCount);
      summary.textContent = `共 ${fmt.number(pupils.totalCount)} 名队员${filtered ? "（符合条件）" : ""}`;
      return pupils;
    }, (nodes) => table(columns(), nodes, filtered
      ? "没有符合条件的队员。可换个写法查找（如拼音首字母），或清除筛选条件。"
      : "您的管理范围内还没有队员。")));
  }

  let typing = null;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(refresh, 350);
  });
  search.addEventListener("keydown", (e) => {
    if (e.key === "Enter") { clearTimeout(typing); refresh(); }
  });
  for (const s of [grade, status, squadron]) s.addEventListener("change", refresh);
  school.addEventListener("change", async () => {
    await loadSquadrons(school.value);
    refresh();
  });

  const exportButton = h("button", {
    type: "button", dataset: { action: "export" },
    onclick: () => act(exportButton, () => {
      const unit = chosenUnit();
      const path = `/exports/pupils.xlsx${unit ? `?under=${encodeURIComponent(unit.id)}` : ""}`;
      return download(path, `队员名册${unit ? `-${unit.name}` : ""}.xlsx`);
    }, "名册已下载"),
  }, "导出 Excel");

  if (place?.school) {
    school.value = place.school;
    await loadSquadrons(place.school, place.squadron);
  } else if (schools.length === 1) {
    // One school in reach (a brigade or squadron counselor): its classes are the useful choice.
    await loadSquadrons(schools[0].id);
  }
  showScopeChip();

  clear(el,
    h("h1", "队员名册"),
    h("section.card.roster",
      h("div.toolbar.roster-filters", search, grade, status, school, squadron, exportButton),
      h("p.hint", "按姓名查找：可输入姓名中的字，或拼音、拼音首字母的开头，如 “zs” 可找到“张三”。 ",
        "导出的 Excel 与导入模板格式相同，证件号码等个人信息按您的权限脱敏。"),
      h("div.row", summary, scopeChip),
      results));
  refresh();
}

export const pages = [
  { path: "county/roster", title: "队员名册", menu: "county", roles: STAFF, render },
  { path: "county/roster/:under", title: "队员名册", roles: STAFF, render },
];
