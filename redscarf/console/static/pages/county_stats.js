// 统计: the figures a county committee reports, with charts. The first figures come from the
// county's summary (one quick read, recomputed by the workers a minute or so after a change);
// below, exact statistics of any unit the viewer may read, for a period and as of a day,
// computed when asked; the same as a workbook, and the county's yearly report.

import { download, gql } from "../api.js";
import { bars, ring } from "../charts.js";
import { label } from "../labels.js";
import { act, clear, errorBox, figure, fmt, h, input, loading, section, select, table } from "../ui.js";
import { group, has, myUnits, ORGANISERS, unitPicker, when } from "./county_work_shared.js";

const SUMMARY = `{
  countySummary {
    countyCode countyName
    statistics {
      asOf since computedAt currentPupils guardians pupilsBound boundPercent
      points { issued spent }
      activities { held servedPupils servedPersonTimes reachedPercent }
    }
  }
}`;

const STATS = `query Stats($unit: ID, $from: Date, $asOf: Date) {
  statistics(unitId: $unit, from: $from, asOf: $asOf) {
    asOf since computedAt unit { name kind }
    units { kind count }
    counselors { kind count }
    currentPupils pupilsByStatus { status count }
    guardians pupilsBound boundPercent
    badges { level academicYear count }
    points { issued spent expired held }
    activities {
      held servedPupils servedPersonTimes reachedPercent
      byArea { area served { pupils personTimes } }
      byTownship { unit { name } served { pupils personTimes } currentPupils reachedPercent }
    }
    redemptions { made verified }
    tasksCompleted { kind count }
    pairing { schools schoolsPaired schoolsPairedPercent ruralSchools ruralPaired ruralPairedPercent migrantSchools migrantPaired pupilsInPairs }
  }
}`;

async function stats(el, params, ctx) {
  const admin = has(ctx, "COUNTY_ADMIN");
  const summary = admin ? h("div") : null;
  const live = h("div");
  clear(el, h("div.toolbar", h("h1", "统计")), summary, live, admin ? reportSection() : null);
  if (summary) showSummary(summary);
  await liveSection(live, ctx);
}

// --- the summary -----------------------------------------------------------------------------

async function showSummary(box) {
  await loading(box, async () => {
    const found = (await gql(SUMMARY)).countySummary;
    if (!found) {
      return section("本学年概况", h("p.hint", "本县（区）还没有生成汇总（开通后几分钟内生成）。请先看下方的实时统计。"));
    }
    const s = found.statistics;
    const card = section(`${found.countyName} · 本学年概况`,
      h("div.figures",
        figure("在册队员", fmt.number(s.currentPupils), "currentPupils"),
        figure("已绑定家长的队员", fmt.number(s.pupilsBound), "pupilsBound"),
        figure("进站率（绑定率）", fmt.percent(s.boundPercent), "boundPercent"),
        figure("注册家长", fmt.number(s.guardians), "guardians"),
        figure("活动场次", fmt.number(s.activities.held), "activitiesHeld"),
        figure("服务人数", fmt.number(s.activities.servedPupils), "servedPupils"),
        figure("发放积分", fmt.number(s.points.issued), "pointsIssued"),
        figure("消费积分", fmt.number(s.points.spent), "pointsSpent")),
      h("p.stamp", { dataset: { computedAt: s.computedAt } },
        `${fmt.date(s.since)} 起至 ${fmt.date(s.asOf)}，汇总于 ${fmt.time(s.computedAt)}（数据变化后约一分钟内更新）`));
    card.id = "stats-summary";
    return card;
  });
}

// --- exact statistics of a unit and a period -------------------------------------------------

async function liveSection(box, ctx) {
  await loading(box, async () => {
    const units = await myUnits(ctx, ORGANISERS);
    let chosen = units[0];
    const picker = unitPicker(ctx, units, { name: "unit", onchange: (u) => { chosen = u; } });
    const from = input("from", { type: "date", value: `${when.academicYear()}-09-01`, max: when.day() });
    const asOf = input("asOf", { type: "date", value: when.day(), max: when.day() });
    const results = h("div");
    // The whole county is asked without a unit (the API's "全县"), any other unit by its ID.
    const unitOf = () => (chosen && chosen.kind !== "COUNTY" ? chosen.id : null);
    const period = () => ({ unit: unitOf(), from: from.value || null, asOf: asOf.value || null });
    async function show() {
      clear(results, h("p.loading", "正在统计…（大县可能需要一两秒）"));
      try {
        const s = (await gql(STATS, period())).statistics;
        clear(results, figures(s));
      } catch (error) {
        clear(results, errorBox(error));
      }
    }
    const run = h("button.primary", { type: "button" }, "统计");
    run.addEventListener("click", () => act(run, show));
    const xlsx = h("button", { type: "button", dataset: { action: "download-statistics" } }, "下载统计表（Excel）");
    xlsx.addEventListener("click", () => act(xlsx, () => {
      const p = period();
      const query = new URLSearchParams();
      if (p.unit) query.set("unit", p.unit);
      if (p.from) query.set("from", p.from);
      if (p.asOf) query.set("asOf", p.asOf);
      return download(`/exports/statistics.xlsx?${query}`, `统计-${chosen?.name ?? ""}-${p.asOf ?? when.day()}.xlsx`);
    }, "统计表已下载"));
    await show();
    const card = section("实时统计",
      h("div.period",
        group("单位", picker, "unit"),
        group("起始日期（流量）", from, "from"),
        group("截止日期（存量）", asOf, "asOf"),
        h("div.actions", run, xlsx)),
      h("p.hint", "存量（队员、家长、辅导员）按截止日期当天结束时计算；流量（奖章、积分、活动、兑换、征集）统计起止日期之间。"),
      results);
    card.id = "stats-live";
    return card;
  });
}

function sumBy(rows, key) {
  const out = new Map();
  for (const r of rows) out.set(r[key], (out.get(r[key]) ?? 0) + r.count);
  return [...out];
}

function figures(s) {
  const a = s.activities;
  const counselors = s.counselors.reduce((n, c) => n + c.count, 0);
  return h("div.stats", { dataset: { asOf: s.asOf } },
    h("p.stamp", `${s.unit ? s.unit.name : "全县（区）"} · ${s.since ? `${fmt.date(s.since)} 起` : "自有记录起"}至 ${fmt.date(s.asOf)} · 计算于 ${fmt.time(s.computedAt)}`),
    h("div.figures",
      figure("在册队员", fmt.number(s.currentPupils), "currentPupils"),
      figure("注册家长", fmt.number(s.guardians), "guardians"),
      figure("已绑定家长的队员", fmt.number(s.pupilsBound), "pupilsBound"),
      figure("进站率（绑定率）", fmt.percent(s.boundPercent), "boundPercent"),
      figure("在任辅导员", fmt.number(counselors), "counselors")),
    h("div.grid",
      ring("家长绑定", [
        { label: "已绑定", value: s.pupilsBound },
        { label: "未绑定", value: Math.max(0, s.currentPupils - s.pupilsBound) },
      ]),
      bars("队员状态", s.pupilsByStatus.map((p) => ({ label: label("PupilStatus", p.status), value: p.count })))),
    h("h3", "活动"),
    h("div.figures",
      figure("活动场次", fmt.number(a.held), "activitiesHeld"),
      figure("服务人数", fmt.number(a.servedPupils), "servedPupils"),
      figure("服务人次", fmt.number(a.servedPersonTimes), "servedPersonTimes"),
      figure("覆盖率", fmt.percent(a.reachedPercent), "reachedPercent")),
    h("div.grid",
      a.byArea.length ? bars("服务人数：城区、农村", a.byArea.map((r) => ({ label: r.area ? label("Area", r.area) : "未填写", value: r.served.pupils }))) : null,
      a.byTownship.length ? bars("服务人数：各乡镇（街道）", a.byTownship.map((t) => ({ label: t.unit?.name ?? "（其他）", value: t.served.pupils })), { sorted: true }) : null),
    a.byTownship.length ? table([
      ["乡镇（街道）", (t) => t.unit?.name ?? "（其他）"],
      ["在册队员", (t) => fmt.number(t.currentPupils)],
      ["服务人数", (t) => fmt.number(t.served.pupils)],
      ["服务人次", (t) => fmt.number(t.served.personTimes)],
      ["覆盖率", (t) => fmt.percent(t.reachedPercent)],
    ], a.byTownship) : null,
    h("h3", "奖章与积分"),
    h("div.grid",
      bars("颁发奖章：按等级", sumBy(s.badges, "level").map(([level, n]) => ({ label: label("BadgeLevel", level), value: n }))),
      bars("积分", [
        { label: "发放", value: s.points.issued },
        { label: "消费", value: s.points.spent },
        { label: "到期回收", value: s.points.expired },
        { label: "期末冻结", value: s.points.held },
      ])),
    h("div.figures",
      figure("发放积分", fmt.number(s.points.issued), "pointsIssued"),
      figure("消费积分", fmt.number(s.points.spent), "pointsSpent"),
      figure("到期回收", fmt.number(s.points.expired), "pointsExpired"),
      figure("期末冻结", fmt.number(s.points.held), "pointsHeld"),
      figure(`兑换次数（已领取 ${fmt.number(s.redemptions.verified)}）`, fmt.number(s.redemptions.made), "redemptions")),
    h("h3", "征集与结对"),
    h("div.figures",
      s.tasksCompleted.map((t) => figure(`完成${label("TaskKind", t.kind)}`, fmt.number(t.count), `tasks-${t.kind}`)),
      figure(`学校结对率（${s.pairing.schoolsPaired} / ${s.pairing.schools}）`, fmt.percent(s.pairing.schoolsPairedPercent), "schoolsPaired"),
      figure(`农村学校覆盖率（${s.pairing.ruralPaired} / ${s.pairing.ruralSchools}）`, fmt.percent(s.pairing.ruralPairedPercent), "ruralPaired"),
      figure("手拉手结对的队员", fmt.number(s.pairing.pupilsInPairs), "pupilsInPairs")),
    s.units.length ? h("p.hint", `组织：${s.units.map((u) => `${label("UnitKind", u.kind)} ${u.count}`).join("，")}`) : null);
}

// --- the yearly report -----------------------------------------------------------------------

function reportSection() {
  const current = when.academicYear();
  const years = [0, 1, 2, 3, 4].map((k) => current - k);
  const year = select("year", years.map((y) => [String(y), `${y}–${y + 1} 学年`]), { "aria-label": "学年" });
  const get = (format) => {
    const b = h(`button${format === "html" ? ".primary" : ""}`, { type: "button", dataset: { action: `report-${format}` } },
      format === "html" ? "下载年度报告（可打印网页）" : "下载年度报告（Excel）");
    b.addEventListener("click", () => act(b,
      () => download(`/exports/report.${format}?year=${year.value}`, `年度报告-${year.value}.${format}`), "年度报告已下载"));
    return b;
  };
  return section("年度报告",
    h("p.hint", "全县（区）一个学年（9 月 1 日至次年 8 月 31 日，当前学年至今天）的注册数、绑定数、进站率、活动场次、服务人数等；网页版可直接在 A4 纸上打印。"),
    h("div.toolbar", year, get("html"), get("xlsx")));
}

export const pages = [
  { path: "county/stats", title: "统计", menu: "county", roles: ORGANISERS, render: stats },
];
