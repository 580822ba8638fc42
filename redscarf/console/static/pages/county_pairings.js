// 结对: this county's side of its pairings (结对共建) with other counties' or its own units,
// counselors and pupils (手拉手). A pairing proposed to us waits for our side to accept it (or
// decline); a running one collects what the two sides do together (the "六个一" of pupils, the
// exchanges of schools and counselors) until either side ends it with its review. Each side
// sees only the other's public card. At the top: how far pairing reaches in our schools.

import { gql, mutate } from "../api.js";
import { ring } from "../charts.js";
import { label, options } from "../labels.js";
import { act, clear, field, figure, fmt, form, h, input, loading, pager, section, select, toast } from "../ui.js";
import { has, myUnits, ORGANISERS, required, stateBadge, sure, when } from "./county_work_shared.js";

// `pairing write` (accept, decline, end, withdraw) and `pairing_event write` (policy.csv).
const WRITERS = ["COUNTY_ADMIN", "TOWNSHIP_ADMIN", "BRIGADE_COUNSELOR"];
const RECORDERS = [...WRITERS, "SQUADRON_COUNSELOR"];
const TONES = { ACTIVE: "ok", PROPOSED: "warn", DECLINED: "bad", WITHDRAWN: "bad" };

// What each level of pairing records (the API refuses other kinds with INVALID_EVENT).
const EVENT_KINDS = {
  PUPIL: ["FRIEND", "LETTER", "CARD", "WEEKEND_VISIT", "BADGE_TOGETHER", "GOOD_DEED"],
  SCHOOL: ["JOINT_ACTIVITY", "CLASS_OBSERVATION", "COUNSELOR_EXCHANGE", "DONATION", "VISIT"],
  COUNSELOR: ["OBSERVATION_LESSON", "SECONDMENT", "EXCHANGE"],
  TOWNSHIP: ["JOINT_ACTIVITY", "VISIT", "MEETING"],
  COUNTY: ["JOINT_ACTIVITY", "VISIT", "MEETING"],
};

const SIDE = "countyCode countyName accepted name unitKind area unitName givenName grade school";
const PAIRING = `id level category state goals startsOn endsOn proposedBy createdAt myReview partnerReview
  mySide { ${SIDE} } partner { ${SIDE} } events { kind on note byMySide }`;

const PAIRINGS = `query Pairings($first: Int, $after: String, $state: PairingState, $level: PairingLevel) {
  pairings(first: $first, after: $after, state: $state, level: $level) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { ${PAIRING} } }
  }
}`;

const COVERAGE = "schools schoolsPaired schoolsPairedPercent ruralSchools ruralPaired ruralPairedPercent migrantSchools migrantPaired pupilsInPairs";

async function pairings(el, params, ctx) {
  const body = h("div");
  let state = null;
  let level = null;
  const show = () => clear(body, pager(
    async (after) => (await gql(PAIRINGS, { first: 10, after, state, level })).pairings,
    (rows) => (rows.length
      ? h("div", rows.map((p) => pairingCard(ctx, p, show)))
      : h("p.empty", state || level ? "没有符合条件的结对" : "本方还没有结对"))));
  const filters = h("div.toolbar",
    select("pairingState", [["", "全部状态"], ...options("PairingState")], {
      "aria-label": "按结对状态筛选", onchange: (e) => { state = e.target.value || null; show(); } }),
    select("pairingLevel", [["", "全部层级"], ...options("PairingLevel").map(([v]) => [v, levelName(v)])], {
      "aria-label": "按结对层级筛选", onchange: (e) => { level = e.target.value || null; show(); } }));
  const coverage = h("div");
  clear(el,
    h("div.toolbar", h("h1", "结对共建")),
    coverage,
    section("本方的结对", h("p.hint", "对方在其所在县（区）确认后，才显示对方的名称；队员只显示名、年级和学校。"), filters, body));
  show();
  if (has(ctx, ...ORGANISERS)) coverageSection(coverage, ctx);
}

// --- coverage --------------------------------------------------------------------------------

// The county's own figures (the province's pairingCoverage is for region admins): from the
// county's summary for its admin (one quick read), else the statistics of the viewer's unit.
async function coverageSection(box, ctx) {
  await loading(box, async () => {
    let figures = null;
    let stamp = null;
    if (has(ctx, "COUNTY_ADMIN")) {
      const s = (await gql(`{ countySummary { statistics { computedAt pairing { ${COVERAGE} } } } }`)).countySummary;
      if (s) ({ pairing: figures, computedAt: stamp } = s.statistics);
    }
    if (!figures) {
      const unit = has(ctx, "COUNTY_ADMIN") ? null : (await myUnits(ctx, ORGANISERS))[0]?.id;
      const s = (await gql(`query Cover($unit: ID) { statistics(unitId: $unit) { computedAt pairing { ${COVERAGE} } } }`, { unit })).statistics;
      ({ pairing: figures, computedAt: stamp } = s);
    }
    const c = figures;
    return section("结对覆盖",
      h("div.figures",
        // A class has no schools: only its pupils' hand-in-hand pairs say something there.
        c.schools ? [
          figure(`学校结对率（${c.schoolsPaired} / ${c.schools} 所）`, fmt.percent(c.schoolsPairedPercent), "schoolsPaired"),
          figure(`农村学校覆盖率（${c.ruralPaired} / ${c.ruralSchools} 所）`, fmt.percent(c.ruralPairedPercent), "ruralPaired"),
          figure(`新居民子女学校已结对（共 ${c.migrantSchools} 所）`, c.migrantPaired, "migrantPaired"),
        ] : null,
        figure("手拉手结对的队员", fmt.number(c.pupilsInPairs), "pupilsInPairs")),
      h("div.grid",
        c.schools ? ring("学校结对", [
          { label: "已结对", value: c.schoolsPaired },
          { label: "未结对", value: Math.max(0, c.schools - c.schoolsPaired) },
        ]) : null,
        c.ruralSchools ? ring("农村学校结对", [
          { label: "已结对", value: c.ruralPaired },
          { label: "未结对", value: Math.max(0, c.ruralSchools - c.ruralPaired) },
        ]) : null),
      h("p.stamp", `统计于 ${fmt.time(stamp)}`));
  });
}

// --- one pairing -----------------------------------------------------------------------------

// "学校（大队）之间": the whole description, the short one ("学校") says too little here.
function levelName(level) {
  return label("PairingLevel", level, { long: true });
}

function proposer(ctx, p) {
  const [kind, code] = p.proposedBy.split(":");
  if (kind === "county") return code === ctx.county ? "本方提议" : `${code === p.partner.countyCode ? p.partner.countyName : code}提议`;
  if (kind === "province") return "省级提议";
  if (kind === "prefecture") return "市（州）提议";
  return p.proposedBy;
}

function sideCard(side, mine) {
  const who = side.name ?? side.givenName;
  const details = [
    side.countyName,
    side.unitKind ? label("UnitKind", side.unitKind) : null,
    side.area ? label("Area", side.area) : null,
    side.unitName,
    side.grade ? `${side.grade}年级` : null,
    side.school,
  ].filter(Boolean);
  return h(`div.side${mine ? ".mine" : ""}`,
    h("div.hint", mine ? "本方" : "对方"),
    h("div.who", who ?? (mine ? "—" : "（对方确认后显示）")),
    h("div.hint", details.join(" · ")),
    side.accepted ? h("span.badge.ok", "已确认") : h("span.badge.warn", "待确认"));
}

function pairingCard(ctx, p, refresh) {
  const extra = h("div");
  const name = p.partner.name ?? p.partner.givenName ?? p.partner.countyName;
  const writer = has(ctx, ...WRITERS);
  const buttons = [];
  // One step on the pairing; `done` is the message, or makes it from the changed pairing.
  const step = (text, mutation, done, { ask, primary } = {}) => {
    const b = h(`button${primary ? ".primary" : ""}`, { type: "button", "aria-label": `${text}与${name}的结对` }, text);
    b.addEventListener("click", () => {
      if (ask && !sure(ask)) return;
      act(b, async () => {
        const payload = await mutate(`mutation Step($id: ID!) { ${mutation}(input: {id: $id}) { pairing { id state } userErrors { field code message } } }`,
          { id: p.id }, mutation);
        toast(typeof done === "function" ? done(payload.pairing) : done);
        refresh();
      });
    });
    buttons.push(b);
  };
  if (p.state === "PROPOSED" && !p.mySide.accepted && writer) {
    step("接受", "acceptPairing", (changed) => (changed.state === "ACTIVE"
      ? "双方都已确认，结对开始：可以记录共同开展的活动了"
      : "已接受本方的结对，等待对方确认"), { primary: true });
    step("拒绝", "declinePairing", "已拒绝这一结对", { ask: "拒绝后这一结对不再进行，确定拒绝吗？" });
  }
  if (p.state === "PROPOSED" && p.mySide.accepted && p.proposedBy === `county:${ctx.county}` && writer) {
    step("撤回", "withdrawPairing", "已撤回结对提议", { ask: "撤回这一结对提议？" });
  }
  if (p.state === "ACTIVE" && has(ctx, ...RECORDERS)) {
    buttons.push(h("button.primary", { type: "button", "aria-label": `记录与${name}的活动`, onclick: () => eventForm(extra, p, refresh) }, "记录活动"));
  }
  if (p.state === "ACTIVE" && writer) {
    buttons.push(h("button", { type: "button", "aria-label": `结束与${name}的结对`, onclick: () => reviewForm(extra, p, refresh, "endPairing") }, "结束结对"));
  }
  if (p.state === "ENDED" && !p.myReview && writer) {
    buttons.push(h("button", { type: "button", onclick: () => reviewForm(extra, p, refresh, "reviewPairing") }, "写本方总结"));
  }
  return h("article.pairing", { dataset: { state: p.state, level: p.level } },
    h("header",
      h("strong", levelName(p.level)),
      p.category ? h("span.badge", label("PairingCategory", p.category)) : null,
      stateBadge("PairingState", p.state, TONES),
      h("span.hint", `${proposer(ctx, p)} · ${fmt.date(p.createdAt)}`),
      h("span.grow"),
      h("div.actions", buttons)),
    h("div.sides", sideCard(p.mySide, true), h("span.link-mark", { "aria-hidden": "true" }, "⇄"), sideCard(p.partner, false)),
    h("dl.facts",
      p.goals ? [h("dt", "结对目标"), h("dd", p.goals)] : null,
      p.startsOn || p.endsOn ? [h("dt", "结对期限"), h("dd", `${fmt.date(p.startsOn)} 至 ${fmt.date(p.endsOn)}`)] : null,
      p.myReview ? [h("dt", "本方总结"), h("dd", p.myReview)] : null,
      p.partnerReview ? [h("dt", "对方总结"), h("dd", p.partnerReview)] : null),
    p.events.length
      ? h("ol.events", p.events.map((e) => h("li", h("strong", label("PairingEventKind", e.kind)), ` · ${fmt.date(e.on)}`,
        e.note ? ` · ${e.note}` : "", h("span.hint", e.byMySide ? "（本方记录）" : "（对方记录）"))))
      : p.state === "ACTIVE" ? h("p.hint", "还没有记录共同开展的活动") : null,
    extra);
}

function eventForm(box, p, refresh) {
  const kinds = EVENT_KINDS[p.level] ?? [];
  clear(box, form([
    h("div.pair",
      field("活动类别", select("kind", kinds.map((k) => [k, label("PairingEventKind", k)]))),
      field("日期", input("on", { type: "date", value: when.day(), max: when.day() }), "不晚于今天")),
    field("说明", input("note", { maxlength: 500, placeholder: "如：联合升旗仪式，双方各 40 名队员参加" })),
  ], async (v) => {
    required(v, { kind: "活动类别", on: "日期" });
    await mutate(`mutation Event($input: RecordPairingEventInput!) { recordPairingEvent(input: $input) {
      pairing { id } userErrors { field code message } } }`,
    { input: { pairingId: p.id, kind: v.kind, on: v.on, note: v.note } }, "recordPairingEvent");
    toast(`已记录：${label("PairingEventKind", v.kind)}`);
    refresh();
  }, "保存记录"));
}

function reviewForm(box, p, refresh, mutation) {
  const ending = mutation === "endPairing";
  clear(box, form([
    field(ending ? "本方总结（可稍后再写）" : "本方总结",
      h("textarea", { name: "review", rows: 3, maxlength: 2000, placeholder: "如：双方共开展活动 4 次，送教 6 人次" })),
  ], async (v) => {
    if (ending && !sure("结束后不能再记录活动，确定结束这一结对吗？")) return;
    if (!ending) required(v, { review: "本方总结" });
    // endPairing's review is optional, reviewPairing's required: the variable's type follows.
    await mutate(`mutation Review($id: ID!, $review: String${ending ? "" : "!"}) { ${mutation}(input: {id: $id, review: $review}) {
      pairing { id state } userErrors { field code message } } }`, { id: p.id, review: v.review }, mutation);
    toast(ending ? "结对已结束" : "本方总结已保存");
    refresh();
  }, ending ? "结束结对" : "保存总结"));
}

export const pages = [
  { path: "county/pairings", title: "结对共建", menu: "county", roles: RECORDERS, render: pairings },
];
