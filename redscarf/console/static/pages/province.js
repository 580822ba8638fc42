// The provincial (or prefectural) League committee's pages: its counties, onboarding a new
// one with its first admin, the statistics of the region, and coordinating pairings across
// counties. A region admin sees counties whole (figures, never a pupil): the API answers
// these without X-County, except where a request acts in one county (inviting its admin).

import { download, gql, mutate, UserErrors } from "../api.js";
import { bars, ring } from "../charts.js";
import { label } from "../labels.js";
import { act, clear, field, figure, fmt, form, h, input, loading, section, table, toast } from "../ui.js";

const REGION_ROLES = ["PROVINCE_ADMIN", "PREFECTURE_ADMIN"];

const STATUS_BADGE = { ACTIVE: "ok", PROVISIONING: "warn", ARCHIVED: "bad" };

function regionOf(ctx) {
  if (!ctx.region) throw new Error("a region page opened by someone without a region role");
  return ctx.region;
}

// --- counties ------------------------------------------------------------------------------

const COUNTIES = `query Counties($code: String!) {
  regionCounties(code: $code) {
    code name prefectureCode status schemaVersion behind createdAt pupils summaryComputedAt
  }
}`;

function statusCell(c) {
  return h(`span.badge.${STATUS_BADGE[c.status] || ""}`, { dataset: { status: c.status } }, label("TenantStatus", c.status));
}

function schemaCell(c) {
  if (!c.schemaVersion) return "—";
  return c.behind
    ? h("span", c.schemaVersion, " ", h("span.badge.warn", { title: "需要平台运维运行数据库升级" }, "待升级"))
    : h("span", c.schemaVersion, " ", h("span.badge.ok", "最新"));
}

async function counties(el, params, ctx) {
  const code = regionOf(ctx);
  await loading(el, async () => {
    const list = (await gql(COUNTIES, { code })).regionCounties;
    const active = list.filter((c) => c.status === "ACTIVE");
    const pupils = active.reduce((sum, c) => sum + (c.pupils || 0), 0);
    return h("div",
      h("div.toolbar", h("h1", "县（区）"), h("a.button.primary", { href: "#/province/onboard" }, "开通县（区）")),
      h("div.figures",
        figure("已开通", active.length),
        figure("开通中", list.filter((c) => c.status === "PROVISIONING").length),
        figure("已归档", list.filter((c) => c.status === "ARCHIVED").length),
        figure("在册队员（已汇总）", fmt.number(pupils))),
      section("所辖县（区）",
        table([
          ["代码", (c) => c.code],
          ["名称", (c) => c.name],
          ["地市", (c) => c.prefectureCode || "—"],
          ["状态", statusCell],
          ["在册队员", (c) => (c.pupils === null ? h("span.hint", "尚未汇总") : fmt.number(c.pupils))],
          ["数据库结构版本", schemaCell],
          ["开通时间", (c) => fmt.time(c.createdAt)],
          ["统计更新于", (c) => fmt.time(c.summaryComputedAt)],
        ], list, "还没有开通任何县（区）")),
      h("p.hint", "在册队员取自各县最近一次汇总（数据变化后约一分钟内更新）。"));
  });
}

// --- onboarding ----------------------------------------------------------------------------

const CREATE = `mutation Onboard($input: CreateCountyInput!) {
  createCounty(input: $input) {
    created county { code name provinceCode prefectureCode }
    userErrors { field code message }
  }
}`;

const INVITE = `mutation Invite($input: CreateInvitationInput!) {
  createInvitation(input: $input) { invitationId token userErrors { field code message } }
}`;

// The steps a person sees while the service creates the county's schema, its database role,
// migrates it and registers the national badge ladder (one mutation, a second or two).
const STEPS = ["核对代码、名称和所属地区", "创建县（区）的数据库结构和角色", "登记全国统一的红领巾奖章体系", "邀请首位县级管理员"];

function steps(current, failed = false) {
  return h("ol.steps", STEPS.map((s, i) => h("li", {
    class: i < current ? "done" : i === current ? (failed ? "failed" : "current") : "",
  }, s)));
}

function onboard(el, params, ctx) {
  const region = regionOf(ctx);
  const province = region.slice(0, 2);
  const progress = h("div.onboarding");
  const creation = form([
    field("县级行政区划代码", input("code", { inputmode: "numeric", maxlength: 6, required: true, placeholder: `如 ${province}2731` }),
      `6 位数字，须属于本${region.length === 2 ? "省" : "市"}（${region} 开头）`),
    field("名称", input("name", { required: true, placeholder: "如 惠水县" })),
    region.length === 4 ? null : field("所属地市代码（可不填）", input("prefectureCode", { inputmode: "numeric", maxlength: 4 }),
      "4 位数字；该地市须已登记"),
  ], async (v) => {
    if (!(v.code || "").startsWith(region)) {
      // Said here, beside the field: the API would refuse the code as outside the region.
      throw new UserErrors([{ field: "code", code: "CODE_NOT_IN_PROVINCE", message: `代码须以 ${region} 开头（本${region.length === 2 ? "省" : "市"}的县级行政区划代码）` }]);
    }
    clear(progress, steps(1), h("progress", { "aria-label": "开通进度" }), h("p.hint", "正在开通，通常需要几秒钟…"));
    const started = performance.now();
    let done;
    try {
      done = await mutate(CREATE, {
        input: { code: v.code || "", name: v.name || "", provinceCode: province,
          prefectureCode: region.length === 4 ? region : v.prefectureCode },
      }, "createCounty");
    } catch (error) {
      clear(progress, steps(0, true));
      throw error;
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    creation.hidden = true;
    const c = done.county;
    clear(progress,
      steps(3),
      h("progress", { max: STEPS.length, value: STEPS.length - 1, "aria-label": "开通进度" }),
      h("p.ok", { dataset: { county: c.code } }, done.created
        ? `${c.name}（${c.code}）已开通，用时 ${seconds} 秒。`
        : `${c.name}（${c.code}）此前已开通，未做改动。`),
      inviteAdmin(c, progress));
  }, "开通");
  clear(el, h("h1", "开通县（区）"),
    section("县（区）信息", h("p.hint", "开通后，该县（区）即有独立的数据空间；接着邀请该县少工委的首位管理员，由其登录后建立组织架构、导入名册。"),
      creation, progress));
}

function inviteAdmin(county, progress) {
  const box = h("div.invite");
  const invitation = form([
    field("管理员姓名", input("displayName", { required: true, placeholder: "如 王老师" })),
  ], async ({ displayName }) => {
    const made = await mutate(INVITE, { input: { role: "COUNTY_ADMIN", scope: "c", displayName: displayName || "" } },
      "createInvitation", { county: county.code });
    const link = `${location.origin}/console/#/invite/${encodeURIComponent(made.token)}`;
    invitation.hidden = true;
    const linkBox = h("input.invitation-link", { value: link, readonly: true, "aria-label": "邀请链接" });
    clear(progress,
      h("ol.steps", STEPS.map((s) => h("li.done", s))),
      h("progress", { max: STEPS.length, value: STEPS.length, "aria-label": "开通进度" }),
      h("p.ok", `已为 ${county.name} 生成首位管理员（${displayName}）的邀请。把下面的链接发给对方（7 天内有效，只能使用一次）：`),
      linkBox,
      h("div.actions",
        h("button", { type: "button", onclick: async () => {
          linkBox.select();
          try { await navigator.clipboard.writeText(link); toast("已复制邀请链接"); } catch { toast("请手动复制链接", "error"); }
        } }, "复制链接"),
        h("a.button", { href: "#/province/counties" }, "返回县（区）列表")));
  }, "生成邀请");
  return clear(box, h("h3", "邀请首位县级管理员"), invitation);
}

// --- statistics ----------------------------------------------------------------------------

const STATS_FIELDS = `currentPupils guardians pupilsBound boundPercent
  badges { level academicYear count }
  points { issued spent expired held }
  activities { held servedPupils servedPersonTimes reachedPercent
    byArea { area served { pupils personTimes } } }
  pairing { schools schoolsPaired schoolsPairedPercent ruralSchools ruralPaired migrantSchools migrantPaired pupilsInPairs }`;

const REGION_STATS = `query Region($code: String!) {
  regionStatistics(code: $code) {
    code name level computedAt oldestCountyAt counties countiesMissing countiesOnboarding
    statistics { asOf since ${STATS_FIELDS} }
    byCounty { countyCode countyName statistics { ${STATS_FIELDS} } }
  }
}`;

const TOWNSHIPS = `query Townships {
  statistics { activities { byTownship { unit { name kind area } served { pupils } currentPupils reachedPercent } } }
}`;

const BADGE_ORDER = ["BASIC", "STAR1", "STAR2", "STAR3", "STAR4", "STAR5", "SPECIAL", "COLLECTIVE"];

function badgesByLevel(badges) {
  const sums = {};
  for (const b of badges) sums[b.level] = (sums[b.level] || 0) + b.count;
  return BADGE_ORDER.filter((l) => sums[l]).map((l) => ({ label: label("BadgeLevel", l), value: sums[l] }));
}

async function statistics(el, params, ctx) {
  const code = regionOf(ctx);
  await loading(el, async () => {
    const r = (await gql(REGION_STATS, { code })).regionStatistics;
    const head = h("div.toolbar", h("h1", `${r.name}统计`),
      h("button", { onclick: (e) => act(e.target, () => download(`/exports/region-statistics.xlsx?code=${code}`, `${r.name}统计.xlsx`)) },
        "下载 Excel"));
    if (!r.statistics) {
      return h("div", head, h("p.empty", r.countiesMissing
        ? `已开通的 ${r.countiesMissing} 个县（区）尚未汇总统计，数据变化后约一分钟内生成，请稍后刷新。`
        : "还没有已开通的县（区）。"));
    }
    const s = r.statistics;
    const counties = r.byCounty;
    const pct = (v) => `${v.toFixed(1)}%`;
    const townships = h("div.townships");
    return h("div", head,
      h("p.hint", `本学年（${s.since} 起）至 ${s.asOf}；汇总 ${r.counties} 个县（区）`,
        r.countiesMissing ? `，另有 ${r.countiesMissing} 个尚无统计` : "",
        r.countiesOnboarding ? `，${r.countiesOnboarding} 个开通中` : "",
        `。计算于 ${fmt.time(r.computedAt)}，各县数据不早于 ${fmt.time(r.oldestCountyAt)}。`),
      h("div.figures",
        figure("在册队员", fmt.number(s.currentPupils)),
        figure("绑定家长的队员", `${fmt.number(s.pupilsBound)}（${pct(s.boundPercent)}）`),
        figure("活动场次", fmt.number(s.activities.held)),
        figure("服务队员", `${fmt.number(s.activities.servedPupils)}（${pct(s.activities.reachedPercent)}）`),
        figure("发放积分", fmt.number(s.points.issued)),
        figure("使用积分", fmt.number(s.points.spent)),
        figure("结对学校", `${fmt.number(s.pairing.schoolsPaired)} / ${fmt.number(s.pairing.schools)}`)),
      h("div.grid.charts",
        section("家长绑定率", bars("各县（区）家长绑定率", counties.map((c) => ({ label: c.countyName, value: c.statistics.boundPercent })),
          { format: pct, sorted: true, max: 100, limit: 20 })),
        section("活动服务队员（城乡）", ring("服务队员：城区与农村", s.activities.byArea.map((a) => ({
          label: a.area ? label("Area", a.area) : "未标注", value: a.served.pupils })))),
        section("各县（区）服务队员", bars("各县（区）活动服务队员人数", counties.map((c) => ({
          label: c.countyName, value: c.statistics.activities.servedPupils })), { sorted: true, limit: 20 })),
        section("奖章（按等级）", bars("获得奖章数（按等级）", badgesByLevel(s.badges))),
        section("积分发放与使用", bars("各县（区）积分：发放与使用", counties.map((c) => ({
          label: c.countyName, values: [c.statistics.points.issued, c.statistics.points.spent] })),
          { legend: ["发放", "使用"], sorted: true, limit: 20 }))),
      section("乡镇（街道）活动覆盖",
        h("div.toolbar", h("label", "县（区）", h("select", {
          "aria-label": "选择县（区）",
          onchange: (e) => showTownships(townships, e.target.value),
        }, h("option", { value: "" }, "请选择"), counties.map((c) => h("option", { value: c.countyCode }, c.countyName))))),
        townships));
  });
}

async function showTownships(box, county) {
  if (!county) return clear(box);
  return loading(box, async () => {
    const rows = (await gql(TOWNSHIPS, {}, { county })).statistics.activities.byTownship;
    if (!rows.length) return h("p.empty", "该县（区）本学年还没有活动服务记录");
    return bars("各乡镇（街道）服务队员占在册队员的比例", rows.map((t) => ({
      label: t.unit?.name || "（已撤销）", value: t.reachedPercent })), { format: (v) => `${v.toFixed(1)}%`, sorted: true, max: 100 });
  });
}

// --- pairing -------------------------------------------------------------------------------

const PAIRING = `query Pairing {
  pairingCoverage { countyCode countyName schools schoolsPaired ruralSchools ruralPaired migrantSchools migrantPaired pupilsInPairs }
  unpairedSchools { unitId countyCode name area schoolKind partners }
  suggestedPairs(limit: 50) {
    school { unitId countyCode name area schoolKind partners }
    partner { unitId countyCode name area schoolKind partners }
  }
}`;

const PROPOSE = `mutation Propose($input: ProposePairingInput!) {
  proposePairing(input: $input) { pairing { id state } userErrors { field code message } }
}`;

function schoolCell(s, names) {
  return h("span", s.name, h("small.hint", ` · ${names[s.countyCode] || s.countyCode}`),
    s.area ? h("span.badge", label("Area", s.area)) : null,
    s.schoolKind && s.schoolKind !== "ORDINARY" ? h("span.badge.warn", label("SchoolKind", s.schoolKind)) : null);
}

async function pairing(el) {
  await loading(el, async () => {
    const d = await gql(PAIRING);
    const names = Object.fromEntries(d.pairingCoverage.map((c) => [c.countyCode, c.countyName]));
    const propose = (pair) => async (e) => {
      const category = pair.school.schoolKind === "MIGRANT" || pair.partner.schoolKind === "MIGRANT" ? "MIGRANT" : "URBAN_RURAL";
      const done = await act(e.target, () => mutate(PROPOSE, { input: {
        level: "SCHOOL", sideId: pair.school.unitId, partnerId: pair.partner.unitId, category,
      } }, "proposePairing"), `已向 ${pair.school.name} 和 ${pair.partner.name} 发起结对，待双方确认`);
      if (done) {
        e.target.replaceWith(h("span.badge.ok", { dataset: { state: done.pairing.state } }, label("PairingState", done.pairing.state)));
      }
    };
    return h("div", h("h1", "结对协调"),
      section("结对覆盖",
        bars("各县（区）学校结对情况", d.pairingCoverage.map((c) => ({
          label: c.countyName, values: [c.schoolsPaired, c.schools - c.schoolsPaired] })), { legend: ["已结对", "未结对"], sorted: true, limit: 20 }),
        table([
          ["县（区）", (c) => c.countyName],
          ["学校", (c) => `${c.schoolsPaired} / ${c.schools}`],
          ["农村学校", (c) => `${c.ruralPaired} / ${c.ruralSchools}`],
          ["新居民子女学校", (c) => `${c.migrantPaired} / ${c.migrantSchools}`],
          ["手拉手队员", (c) => fmt.number(c.pupilsInPairs)],
        ], d.pairingCoverage)),
      section("建议结对", h("p.hint", "尚未结对的农村学校、新居民子女学校，配有余力的城区学校（优先外县）。发起后由双方县（区）确认。"),
        table([
          ["学校", (p) => schoolCell(p.school, names)],
          ["建议结对学校", (p) => schoolCell(p.partner, names)],
          ["", (p) => h("button.primary", { onclick: propose(p), dataset: { action: "propose" } }, "发起结对")],
        ], d.suggestedPairs, "暂无建议：所有农村和新居民子女学校都已结对，或没有可结对的城区学校")),
      section("尚未结对的学校", table([
        ["学校", (s) => schoolCell(s, names)],
        ["县（区）", (s) => names[s.countyCode] || s.countyCode],
      ], d.unpairedSchools, "所有学校都已结对")));
  });
}

export const pages = [
  { path: "province/counties", title: "县（区）", menu: "province", roles: REGION_ROLES, render: counties },
  { path: "province/onboard", title: "开通县（区）", menu: "province", roles: ["PROVINCE_ADMIN"], render: onboard },
  { path: "province/stats", title: "统计", menu: "province", roles: REGION_ROLES, render: statistics },
  { path: "province/pairing", title: "结对协调", menu: "province", roles: REGION_ROLES, render: pairing },
];

