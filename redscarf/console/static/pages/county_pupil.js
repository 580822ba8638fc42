// 队员: one pupil as a counselor needs them: the facts (birth date and ID number masked unless
// the person may unmask them, which is audited), badges, points, the growth archive, and a
// binding code for a guardian, shown large to be read out or sent to the family.
// A pupil out of the person's reach is simply not given by the API: the page says so and shows
// nothing else.

import { ApiError, download, gql, mutate } from "../api.js";
import { label } from "../labels.js";
import { act, clear, errorBox, figure, fmt, h, pager, section, table } from "../ui.js";
import { PUPIL_WRITERS, STAFF, gradeName, may, squadronName } from "./people_common.js";

const PUPIL = `query Pupil($id: ID!) {
  pupil(id: $id) {
    id name gender grade status joinedOn birthDate idNumber
    squadron { id name path parent { id name } }
    points { balance held available }
    badges { id badge { name level } state academicYear term awardedAt points }
    archive { on kind title detail points }
  }
}`;

const PERSONAL = `query PupilPersonal($id: ID!) {
  pupil(id: $id) { id birthDate(reveal: true) idNumber(reveal: true) }
}`;

const HISTORY = `query PointsHistory($id: ID!, $after: String) {
  pupil(id: $id) {
    id
    pointsHistory(first: 10, after: $after) {
      edges { node { amount kind memo at balanceAfter } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

const ISSUE = `mutation IssueBindingCode($id: ID!) {
  issueBindingCode(input: {pupilId: $id}) { code expiresAt userErrors { field code message } }
}`;

const ARCHIVE_SHOWN = 15;
// The archive's kinds in a word (the schema's descriptions are sentences).
const ARCHIVE_KIND = { STATUS: "队籍", BADGE: "奖章", REVOKED: "奖章撤销", TASK: "征集", POINTS: "积分" };

function facts(pupil, canReveal) {
  const birth = h("dd", pupil.birthDate || "未登记");
  const idNumber = h("dd", pupil.idNumber || "未登记");
  const reveal = canReveal ? h("button.link", {
    type: "button", dataset: { action: "reveal" },
    onclick: () => act(reveal, async () => {
      const data = await gql(PERSONAL, { id: pupil.id });
      birth.textContent = data.pupil?.birthDate || "未登记";
      idNumber.textContent = data.pupil?.idNumber || "未登记";
      reveal.remove();
    }),
  }, "显示完整的出生日期和身份证号码（将记入审计日志）") : null;
  return section("基本信息",
    h("dl.facts",
      h("dt", "性别"), h("dd", label("Gender", pupil.gender)),
      h("dt", "年级"), h("dd", gradeName(pupil.grade)),
      h("dt", "所在中队"), h("dd", pupil.squadron
        ? h("a", { href: `#/county/roster/${encodeURIComponent(pupil.squadron.id)}` }, squadronName(pupil.squadron))
        : "—"),
      h("dt", "状态"), h("dd", label("PupilStatus", pupil.status)),
      h("dt", "入队日期"), h("dd", fmt.date(pupil.joinedOn)),
      h("dt", "出生日期"), birth,
      h("dt", "身份证号码"), idNumber),
    reveal ? h("p", reveal) : null);
}

function points(pupil) {
  const shown = (n, t) => figure(t, fmt.number(n));
  const history = pager(async (after) => {
    const data = await gql(HISTORY, { id: pupil.id, after });
    return data.pupil.pointsHistory;
  }, (entries) => table([
    ["时间", (e) => fmt.time(e.at)],
    ["类别", (e) => label("PointsEntryKind", e.kind)],
    ["说明", (e) => e.memo || "—"],
    ["变动", (e) => h(`span.amount${e.amount < 0 ? ".minus" : ".plus"}`, `${e.amount > 0 ? "+" : ""}${e.amount}`)],
    ["余额", (e) => fmt.number(e.balanceAfter)],
  ], entries, "还没有积分记录"));
  return section("积分",
    h("div.figures",
      shown(pupil.points.balance, "积分余额"),
      shown(pupil.points.held, "已预留（报名未结算）"),
      shown(pupil.points.available, "可用")),
    h("h3", "积分明细（最新的在前）"),
    history);
}

function badges(pupil) {
  return section("奖章", table([
    ["奖章", (a) => a.badge.name],
    ["等级", (a) => label("BadgeLevel", a.badge.level)],
    ["学年", (a) => `${a.academicYear}—${a.academicYear + 1}${a.term ? ` 第${a.term}学期` : ""}`],
    ["状态", (a) => h(`span.badge.${a.state === "AWARDED" ? "ok" : a.state === "REVOKED" || a.state === "REJECTED" ? "bad" : "warn"}`,
      label("AwardState", a.state))],
    ["颁发日期", (a) => fmt.date(a.awardedAt)],
    ["积分", (a) => (a.points ? `+${a.points}` : "—")],
  ], pupil.badges, "还没有奖章"));
}

function archive(pupil) {
  const entries = [...pupil.archive].reverse(); // newest first: what a counselor looks for
  const list = h("div");
  const show = (all) => clear(list, table([
    ["日期", (e) => fmt.date(e.on)],
    ["类别", (e) => ARCHIVE_KIND[e.kind] || label("ArchiveKind", e.kind)],
    ["事项", (e) => e.title],
    ["说明", (e) => e.detail || "—"],
    ["积分", (e) => (e.points === null || e.points === undefined ? "—" : `${e.points > 0 ? "+" : ""}${e.points}`)],
  ], all ? entries : entries.slice(0, ARCHIVE_SHOWN), "成长档案还是空的"),
  !all && entries.length > ARCHIVE_SHOWN
    ? h("p", h("button.link", { type: "button", onclick: () => show(true) }, `显示全部 ${entries.length} 条`))
    : null);
  show(false);
  const printable = h("button", {
    type: "button", dataset: { action: "archive" },
    onclick: () => act(printable,
      () => download(`/exports/archive.html?pupil=${encodeURIComponent(pupil.id)}`, `成长档案-${pupil.name}.html`),
      "成长档案已下载，用浏览器打开即可打印（A4）"),
  }, "下载可打印的成长档案");
  return section("成长档案", h("div.toolbar", printable), list);
}

function binding(pupil, canIssue, county) {
  if (!canIssue) {
    return section("家长绑定",
      h("p.hint", "家长凭学校给的绑定码在手机上绑定孩子。绑定码由这名队员的中队辅导员、大队辅导员或县级管理员生成。"));
  }
  const shown = h("div.binding-result", { "aria-live": "polite" });
  const issue = h("button.primary", {
    type: "button", dataset: { action: "issue-binding-code" },
    onclick: () => act(issue, async () => {
      const payload = await mutate(ISSUE, { id: pupil.id }, "issueBindingCode");
      clear(shown,
        h("p", `${pupil.name}的家长绑定码：`),
        h("p.binding-code", { dataset: { code: payload.code } }, payload.code),
        // The parent's page asks for the county too: a binding code is unique within a county.
        h("p", "县（区）代码 ", h("strong.county-code", county), "（家长绑定时一并填写）"),
        h("p", "有效期至 ", h("strong.expires", fmt.time(payload.expiresAt)), "，只能使用一次。"),
        h("p.hint", "请当面念给家长，或通过短信、微信单独发给这名队员的家长；不要公开张贴。绑定码只显示这一次，离开本页后无法再查看，需要时可重新生成。"));
      issue.textContent = "重新生成绑定码";
    }, "绑定码已生成"),
  }, "生成家长绑定码");
  return section("家长绑定",
    h("p.hint", "家长在手机上登录后，输入学校给的绑定码即可绑定孩子、查看孩子的积分和奖章。绑定码 14 天内有效，用一次即失效。"),
    h("div.toolbar", issue),
    shown);
}

async function render(el, params, ctx) {
  clear(el, h("h1", "队员"), h("p.loading", "加载中…"));
  let pupil;
  try {
    pupil = (await gql(PUPIL, { id: params.id })).pupil;
    // Out of reach the API answers with nothing rather than an error: say so, show nothing.
    if (!pupil) throw new ApiError("PUPIL_NOT_FOUND", "");
  } catch (error) {
    clear(el, h("h1", "队员"), errorBox(error), h("p", h("a", { href: "#/county/roster" }, "返回队员名册")));
    return;
  }
  document.title = `${pupil.name} · 红领巾工作台`;
  const writes = may(ctx, PUPIL_WRITERS, pupil.squadron?.path ?? null);
  clear(el,
    h("p.crumbs", h("a", { href: "#/county/roster" }, "队员名册"), " / ",
      pupil.squadron ? h("a", { href: `#/county/roster/${encodeURIComponent(pupil.squadron.id)}` },
        squadronName(pupil.squadron)) : null),
    h("h1.pupil-name", pupil.name, " ",
      h(`span.badge.${pupil.status === "MEMBER" ? "ok" : "warn"}`, label("PupilStatus", pupil.status))),
    h("div.grid.pupil-top", facts(pupil, writes), binding(pupil, writes, ctx.county)),
    badges(pupil),
    points(pupil),
    archive(pupil));
}

export const pages = [
  { path: "county/pupils/:id", title: "队员", roles: STAFF, render },
];
