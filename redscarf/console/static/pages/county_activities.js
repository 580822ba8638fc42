// 活动: the activities of the county, organised by the county, a township, a school or a class.
// The list (by state, page by page) and a new activity; one activity's page with its steps
// (publish, close sign-up, finish, cancel), its sign-up list, attendance (a counselor checks a
// pupil in, or shows a code at the venue that families type in), and how far the activities
// reached, by township and urban/rural (activityReach).

import { gql, mutate } from "../api.js";
import { bars } from "../charts.js";
import { label, options } from "../labels.js";
import { act, clear, errorBox, field, figure, fmt, form, h, input, loading, pager, section, select, table, toast } from "../ui.js";
import { checkedGrades, gradeBoxes, group, has, myUnits, ORGANISERS, reaches, required, span, STAFF, stateBadge, sure, unitPicker, when, withFields } from "./county_work_shared.js";

const TONES = { PUBLISHED: "ok", CLOSED: "warn", CANCELLED: "bad" };
const SIGNUP_TONES = { CONFIRMED: "ok", ATTENDED: "ok", WAITLISTED: "warn", NO_SHOW: "bad", LAPSED: "bad" };
const OPEN = ["PUBLISHED", "CLOSED"]; // sign-ups may be checked in

const FIELDS = `id title description place startsAt endsAt signupOpensAt signupClosesAt cancelUntil
  capacity confirmed placesLeft waitlisted grades area cost reward noShowKeepsCost state createdAt
  organiser { id name kind path }`;

const LIST = `query Activities($first: Int, $after: String, $state: ActivityState) {
  activities(first: $first, after: $after, state: $state) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { ${FIELDS} } }
  }
}`;

const ONE = `query Activity($id: ID!) { activity(id: $id) { ${FIELDS} } }`;

const PAYLOAD = `activity { ${FIELDS} } userErrors { field code message }`;

// The organiser's steps, each a mutation on the activity's ID.
const STEPS = {
  publish: { mutation: "publishActivity", label: "发布", done: "活动已发布，队员可以在报名时间内报名", from: ["DRAFT"] },
  close: { mutation: "closeActivitySignup", label: "截止报名", done: "已截止报名，仍可签到", from: ["PUBLISHED"] },
  finish: {
    mutation: "finishActivity", label: "结束活动", from: OPEN,
    ask: "结束后，未签到的队员记为未到，候补自动失效。确定结束这项活动吗？",
  },
  cancel: {
    mutation: "cancelActivity", label: "取消活动", from: ["DRAFT", "PUBLISHED", "CLOSED"], kind: "danger",
    ask: "取消后不能再报名和签到，报名队员预留的积分将全部退还。确定取消这项活动吗？",
  },
};

// Who may organise this activity: `activity write` at its organiser or above.
function organises(ctx, activity) {
  return reaches(ctx, ORGANISERS, activity.organiser?.path);
}

async function runStep(step, activity) {
  const s = STEPS[step];
  if (s.ask && !sure(s.ask)) return null;
  const extra = step === "finish" ? "attended noShows" : step === "cancel" ? "jobId" : "";
  const payload = await mutate(`mutation Step($id: ID!) { ${s.mutation}(input: {id: $id}) { ${PAYLOAD} ${extra} } }`,
    { id: activity.id }, s.mutation);
  if (step === "finish") toast(`活动已结束：签到 ${payload.attended} 人，未到 ${payload.noShows} 人`);
  else if (step === "cancel") toast("活动已取消，预留的积分正在退还");
  else toast(s.done);
  return payload.activity;
}

function stepButtons(ctx, activity, after) {
  if (!organises(ctx, activity)) return [];
  return Object.entries(STEPS)
    .filter(([, s]) => s.from.includes(activity.state))
    .map(([step, s]) => {
      const b = h(`button${step === "publish" ? ".primary" : ""}${s.kind ? `.${s.kind}` : ""}`,
        { type: "button", dataset: { step } }, s.label);
      b.addEventListener("click", () => act(b, async () => {
        const changed = await runStep(step, activity);
        if (changed) after(changed);
      }));
      return b;
    });
}

function grades(a) {
  return a.grades?.length ? a.grades.map((g) => `${g}年级`).join("、") : "不限";
}

function points(a) {
  return `报名 ${a.cost} · 奖励 ${a.reward}`;
}

// --- the list --------------------------------------------------------------------------------

function activityTable(rows, ctx, refresh) {
  return table([
    ["活动", (a) => h("div",
      h("a", { href: `#/county/activities/${encodeURIComponent(a.id)}` }, a.title),
      a.place ? h("div.hint", a.place) : null)],
    ["组织单位", (a) => a.organiser?.name ?? "—"],
    ["活动时间", (a) => span(a.startsAt, a.endsAt)],
    ["报名时间", (a) => span(a.signupOpensAt, a.signupClosesAt)],
    ["名额", (a) => h("span", `${a.confirmed} / ${a.capacity}`, a.waitlisted ? h("span.hint", ` 候补 ${a.waitlisted}`) : null)],
    ["积分", points],
    ["状态", (a) => stateBadge("ActivityState", a.state, TONES)],
    ["", (a) => h("div.actions", stepButtons(ctx, a, refresh).filter((b) => b.dataset.step === "publish"))],
  ], rows, "没有符合条件的活动");
}

async function list(el, params, ctx) {
  const body = h("div");
  let state = null;
  const show = () => clear(body, pager(
    async (after) => (await gql(LIST, { first: 20, after, state })).activities,
    (rows) => activityTable(rows, ctx, show)));
  const filter = select("state", [["", "全部状态"], ...options("ActivityState")], {
    "aria-label": "按状态筛选",
    onchange: (e) => { state = e.target.value || null; show(); },
  });
  const creating = h("div");
  const newButton = has(ctx, ...ORGANISERS)
    ? h("button.primary", { type: "button", onclick: () => openCreate(creating, ctx) }, "新建活动")
    : null;
  clear(el,
    h("div.toolbar", h("h1", "活动"), h("span.grow"), filter, newButton),
    creating,
    section("活动列表", body),
    has(ctx, ...ORGANISERS) ? reachSection(ctx) : null);
  show();
}

// --- a new activity --------------------------------------------------------------------------

const CREATE = `mutation Create($input: CreateActivityInput!) { createActivity(input: $input) { ${PAYLOAD} } }`;

// Refusals the API gives without a field, shown beside the input they are about.
const CREATE_FIELDS = {
  TITLE_REQUIRED: "title", INVALID_TIME: "endsAt", INVALID_WINDOW: "signupClosesAt",
  INVALID_CAPACITY: "capacity", INVALID_POINTS: "cost", INVALID_GRADES: "grades",
  UNIT_NOT_FOUND: "organiserId", INVALID_ORGANISER: "organiserId", FORBIDDEN: "organiserId",
};

async function openCreate(box, ctx) {
  if (box.firstChild) return box.querySelector("input")?.focus();
  await loading(box, async () => {
    const units = await myUnits(ctx, ORGANISERS);
    const start = when.at(when.addDays(new Date(), 7), 9);
    const dt = (name, value) => input(name, { type: "datetime-local", value: value ? when.input(value) : "" });
    const f = form([
      field("活动名称", input("title", { required: true, maxlength: 100, placeholder: "如：清明祭英烈" })),
      group("组织单位", unitPicker(ctx, units, { name: "organiserId" }), "organiserId",
        "只有组织单位及其下级的队员可以报名"),
      field("地点", input("place", { maxlength: 200 })),
      field("介绍", h("textarea", { name: "description", rows: 3, maxlength: 2000 })),
      h("div.pair",
        field("开始时间", dt("startsAt", start)),
        field("结束时间", dt("endsAt", when.at(start, 12)))),
      h("div.pair",
        field("报名开始", dt("signupOpensAt", new Date())),
        field("报名截止", dt("signupClosesAt", when.at(when.addDays(start, -1), 18)), "不晚于活动结束")),
      field("取消报名截止", dt("cancelUntil", null), "此前家长可取消报名并退还积分；不填则活动结束前都可取消"),
      h("div.pair",
        field("名额", input("capacity", { type: "number", min: 1, value: 50 })),
        field("面向城乡", select("area", [["", "不限"], ...options("Area")]))),
      group("面向年级", gradeBoxes(), "grades", "都不选则不限年级"),
      h("div.pair",
        field("报名所需积分", input("cost", { type: "number", min: 0, value: 0 }), "报名时预留，签到时扣除"),
        field("签到奖励积分", input("reward", { type: "number", min: 0, value: 0 }))),
      h("label.check", input("noShowKeepsCost", { type: "checkbox", checked: true }), "报名未到的，预留积分照扣"),
    ], async (v, formEl) => {
      required(v, { title: "活动名称", organiserId: "组织单位", startsAt: "开始时间", endsAt: "结束时间",
        signupOpensAt: "报名开始时间", signupClosesAt: "报名截止时间", capacity: "名额" });
      const payload = await withFields(CREATE_FIELDS, () => mutate(CREATE, { input: {
        organiserId: v.organiserId, title: v.title, description: v.description, place: v.place,
        startsAt: when.iso(v.startsAt), endsAt: when.iso(v.endsAt),
        signupOpensAt: when.iso(v.signupOpensAt), signupClosesAt: when.iso(v.signupClosesAt),
        cancelUntil: when.iso(v.cancelUntil), capacity: v.capacity, grades: checkedGrades(formEl),
        area: v.area, cost: v.cost ?? 0, reward: v.reward ?? 0, noShowKeepsCost: v.noShowKeepsCost,
      } }, "createActivity"));
      toast("活动已创建（草稿）：发布后队员才能看到并报名");
      ctx.go(`county/activities/${encodeURIComponent(payload.activity.id)}`);
    }, "创建活动");
    return section("新建活动", f,
      h("div.actions", h("button.link", { type: "button", onclick: () => clear(box) }, "收起")));
  });
}

// --- one activity ----------------------------------------------------------------------------

const SIGNUPS = `query Signups($id: ID!, $first: Int, $after: String, $state: SignupState) {
  activity(id: $id) {
    signups(first: $first, after: $after, state: $state) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { id state position createdAt updatedAt pupil { id name grade squadron { name } } } }
    }
  }
}`;

async function detail(el, params, ctx) {
  await loading(el, async () => {
    const activity = (await gql(ONE, { id: params.id })).activity;
    if (!activity) return h("p.error", { role: "alert", dataset: { code: "ACTIVITY_NOT_FOUND" } }, "没有这项活动，或您无权查看");
    const again = () => detail(el, params, ctx);
    return h("div.activity", { dataset: { state: activity.state } },
      h("p", h("a", { href: "#/county/activities" }, "← 活动列表")),
      h("div.toolbar", h("h1", activity.title), stateBadge("ActivityState", activity.state, TONES),
        h("span.grow"), stepButtons(ctx, activity, again)),
      h("div.figures",
        figure("已确认", `${activity.confirmed} / ${activity.capacity}`, "confirmed"),
        figure("剩余名额", activity.placesLeft, "placesLeft"),
        figure("候补", activity.waitlisted, "waitlisted"),
        figure("报名所需 / 签到奖励积分", `${activity.cost} / ${activity.reward}`, "points")),
      h("div.grid",
        section("活动信息", facts(activity)),
        attendance(ctx, activity)),
      signupSection(ctx, activity, again),
      organises(ctx, activity) && !["FINISHED", "CANCELLED"].includes(activity.state) ? editSection(activity, again) : null);
  });
}

function facts(a) {
  return h("dl.facts",
    h("dt", "组织单位"), h("dd", a.organiser?.name ?? "—"),
    h("dt", "活动时间"), h("dd", span(a.startsAt, a.endsAt)),
    h("dt", "地点"), h("dd", a.place || "—"),
    h("dt", "报名时间"), h("dd", span(a.signupOpensAt, a.signupClosesAt)),
    h("dt", "取消报名截止"), h("dd", a.cancelUntil ? fmt.time(a.cancelUntil) : "活动结束前"),
    h("dt", "面向年级"), h("dd", grades(a)),
    h("dt", "面向城乡"), h("dd", a.area ? label("Area", a.area) : "不限"),
    h("dt", "积分"), h("dd", points(a)),
    h("dt", "未到者"), h("dd", a.noShowKeepsCost ? "预留积分照扣" : "预留积分退还"),
    h("dt", "介绍"), h("dd.pre", a.description || "—"),
    h("dt", "创建时间"), h("dd", fmt.time(a.createdAt)));
}

// The code families type in at the venue (a new one replaces the old).
function attendance(ctx, activity) {
  const open = OPEN.includes(activity.state);
  const shown = h("div.checkin-code", { "aria-live": "polite" });
  const issue = h("button.primary", { type: "button", dataset: { action: "issue-code" } }, "生成签到码");
  issue.addEventListener("click", () => act(issue, async () => {
    const p = await mutate(`mutation Code($id: ID!) { issueCheckinCode(input: {id: $id}) { code userErrors { field code message } } }`,
      { id: activity.id }, "issueCheckinCode");
    clear(shown, h("div.code", p.code), h("p.hint", "请在现场公布；再次生成后，旧的签到码即作废。"));
  }, "已生成新的签到码"));
  return section("签到",
    h("p", "可在下方报名名单中为队员逐一签到；也可生成签到码在现场公布，家长从活动开始前 1 小时起凭码为孩子签到。"),
    open && organises(ctx, activity) ? h("div.actions", issue) : h("p.hint", open ? "只有组织单位可以生成签到码。" : "这项活动现在不能签到。"),
    shown);
}

function signupSection(ctx, activity, again) {
  const body = h("div");
  let state = null;
  const canCheckIn = OPEN.includes(activity.state) && has(ctx, ...STAFF);
  const show = () => clear(body, pager(
    async (after) => (await gql(SIGNUPS, { id: activity.id, first: 20, after, state })).activity.signups,
    (rows) => table([
      ["队员", (s) => s.pupil ? h("a", { href: `#/county/pupils/${encodeURIComponent(s.pupil.id)}` }, s.pupil.name) : "（辖区外队员）"],
      ["中队", (s) => s.pupil?.squadron?.name ?? "—"],
      ["状态", (s) => h("span", stateBadge("SignupState", s.state, SIGNUP_TONES),
        s.state === "WAITLISTED" && s.position ? h("span.hint", ` 第 ${s.position} 位`) : null)],
      ["报名时间", (s) => fmt.time(s.createdAt)],
      ["更新时间", (s) => fmt.time(s.updatedAt)],
      ["", (s) => h("div.actions",
        canCheckIn && s.state === "CONFIRMED" && s.pupil ? checkInButton(activity, s, again) : null,
        ["CONFIRMED", "WAITLISTED"].includes(s.state) && organises(ctx, activity) ? withdrawButton(s, again) : null)],
    ], rows, state ? "没有这一状态的报名" : "还没有人报名")));
  const filter = select("signupState", [["", "全部报名"], ...options("SignupState")], {
    "aria-label": "按报名状态筛选", onchange: (e) => { state = e.target.value || null; show(); },
  });
  show();
  return section("报名名单",
    h("div.toolbar", filter),
    body,
    activity.state === "PUBLISHED" && has(ctx, ...ORGANISERS) ? groupSignup(activity, again) : null);
}

function checkInButton(activity, signup, again) {
  const b = h("button.primary", { type: "button", dataset: { action: "check-in" }, "aria-label": `为 ${signup.pupil.name} 签到` }, "签到");
  b.addEventListener("click", () => act(b, async () => {
    await mutate(`mutation CheckIn($a: ID!, $p: ID!) { checkInPupil(input: {activityId: $a, pupilId: $p}) {
      signup { id state } userErrors { field code message } } }`, { a: activity.id, p: signup.pupil.id }, "checkInPupil");
    toast(`${signup.pupil.name} 已签到${activity.reward ? `，获得 ${activity.reward} 积分` : ""}`);
    again();
  }));
  return b;
}

function withdrawButton(signup, again) {
  const b = h("button", { type: "button", dataset: { action: "withdraw" }, "aria-label": `取消 ${signup.pupil?.name ?? ""} 的报名` }, "取消报名");
  b.addEventListener("click", () => {
    if (!sure(`取消 ${signup.pupil?.name ?? "这名队员"} 的报名？预留的积分将退还。`)) return;
    act(b, async () => {
      await mutate(`mutation Withdraw($s: ID!) { cancelActivitySignup(input: {signupId: $s}) {
        signup { id state } userErrors { field code message } } }`, { s: signup.id }, "cancelActivitySignup");
      again();
    }, "已取消报名，预留的积分已退还");
  });
  return b;
}

// A counselor signs up pupils of their reach: find them by name, tick, sign up (all or none).
function groupSignup(activity, again) {
  const found = h("div.found");
  const search = input("pupilSearch", { type: "search", placeholder: "队员姓名或拼音首字母", "aria-label": "查找队员" });
  const chosen = new Map();
  const submit = h("button.primary", { type: "button", disabled: true }, "为所选队员报名");
  async function find() {
    const q = search.value.trim();
    if (!q) return;
    clear(found, h("p.loading", "查找中…"));
    try {
      const data = await gql(`query Find($q: String!) { pupils(search: $q, first: 20) {
        edges { node { id name grade status squadron { name } points { available } } } } }`, { q });
      const rows = data.pupils.edges.map((e) => e.node);
      clear(found, table([
        ["", (p) => h("input", { type: "checkbox", "aria-label": `选择 ${p.name}`, checked: chosen.has(p.id),
          onchange: (e) => { if (e.target.checked) chosen.set(p.id, p.name); else chosen.delete(p.id); submit.disabled = !chosen.size; } })],
        ["姓名", (p) => p.name],
        ["中队", (p) => p.squadron?.name ?? "—"],
        ["年级", (p) => `${p.grade}年级`],
        ["可用积分", (p) => fmt.number(p.points?.available)],
      ], rows, "没有找到这名队员"));
    } catch (error) {
      clear(found, errorBox(error));
    }
  }
  search.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); find(); } });
  submit.addEventListener("click", () => act(submit, async () => {
    const p = await mutate(`mutation SignUp($a: ID!, $p: [ID!]!) { signUpForActivity(input: {activityId: $a, pupilIds: $p}) {
      signups { id state } userErrors { field code message } } }`, { a: activity.id, p: [...chosen.keys()] }, "signUpForActivity");
    const waiting = p.signups.filter((s) => s.state === "WAITLISTED").length;
    toast(`已报名 ${p.signups.length} 人${waiting ? `，其中 ${waiting} 人候补` : ""}`);
    again();
  }));
  return h("details.signup-group",
    h("summary", "为队员报名"),
    h("p.hint", `报名时预留每人 ${activity.cost} 积分；超出名额的按先后候补。所选队员须都符合条件，否则都不报名。`),
    h("div.toolbar", search, h("button", { type: "button", onclick: find }, "查找"), submit),
    found);
}

const UPDATE = `mutation Update($input: UpdateActivityInput!) { updateActivity(input: $input) { ${PAYLOAD} } }`;

// After publishing only the words and a larger capacity may change (the API's rule).
function editSection(a, again) {
  const f = form([
    field("活动名称", input("title", { value: a.title, maxlength: 100 })),
    field("地点", input("place", { value: a.place || "", maxlength: 200 })),
    field("介绍", h("textarea", { name: "description", rows: 3, maxlength: 2000 }, a.description || "")),
    field("名额", input("capacity", { type: "number", min: a.confirmed || 1, value: a.capacity }),
      a.state === "DRAFT" ? null : `发布后只能增加名额（已确认 ${a.confirmed} 人）；增加后候补队员按先后递补`),
  ], async (v) => {
    await withFields({ INVALID_CAPACITY: "capacity", TITLE_REQUIRED: "title" }, () => mutate(UPDATE, { input: {
      // An emptied place or description is cleared ("" ), where null would leave it as it was.
      id: a.id, title: v.title, place: v.place ?? "", description: v.description ?? "", capacity: v.capacity,
    } }, "updateActivity"));
    toast("活动信息已保存");
    again();
  }, "保存修改");
  return h("details.card.edit", h("summary", "修改活动信息"), f);
}

// --- reach -----------------------------------------------------------------------------------

const REACH = `query Reach($unit: ID, $from: Date, $to: Date) {
  activityReach(unitId: $unit, from: $from, to: $to) {
    activities currentPupils reachedPercent served { pupils personTimes }
    byArea { area served { pupils personTimes } }
    byTownship { unit { name } served { pupils personTimes } currentPupils reachedPercent }
  }
}`;

// How many pupils the activities reached in a period, for the viewer's unit (the county for
// its admin): the same figures as the statistics, by township and urban/rural.
function reachSection(ctx) {
  const body = h("div");
  const year = when.academicYear();
  const from = input("reachFrom", { type: "date", value: `${year}-09-01`, "aria-label": "起始日期" });
  const to = input("reachTo", { type: "date", value: when.day(), "aria-label": "截止日期" });
  async function show() {
    await loading(body, async () => {
      const unit = has(ctx, "COUNTY_ADMIN") ? null : (await myUnits(ctx, ORGANISERS))[0]?.id;
      const r = (await gql(REACH, { unit, from: from.value || null, to: to.value || null })).activityReach;
      return h("div",
        h("div.figures",
          figure("活动场次", fmt.number(r.activities), "activities"),
          figure("服务人数", fmt.number(r.served.pupils), "servedPupils"),
          figure("服务人次", fmt.number(r.served.personTimes), "personTimes"),
          figure("覆盖率", fmt.percent(r.reachedPercent), "reachedPercent")),
        h("div.grid",
          r.byTownship.length ? bars("各乡镇（街道）服务人数", r.byTownship.map((t) => ({ label: t.unit?.name ?? "（其他）", value: t.served.pupils })), { sorted: true }) : null,
          r.byArea.length ? bars("城区、农村服务人数", r.byArea.map((a) => ({ label: a.area ? label("Area", a.area) : "未填写", value: a.served.pupils }))) : null),
        r.byTownship.length ? table([
          ["乡镇（街道）", (t) => t.unit?.name ?? "（其他）"],
          ["服务人数", (t) => fmt.number(t.served.pupils)],
          ["服务人次", (t) => fmt.number(t.served.personTimes)],
          ["在册队员", (t) => fmt.number(t.currentPupils)],
          ["覆盖率", (t) => fmt.percent(t.reachedPercent)],
        ], r.byTownship) : null);
    });
  }
  show();
  return section("活动覆盖面",
    h("div.toolbar", h("span", "期间"), from, h("span", "至"), to, h("button", { type: "button", onclick: show }, "查询")),
    body);
}

export const pages = [
  { path: "county/activities", title: "活动", menu: "county", roles: STAFF, render: list },
  { path: "county/activities/:id", title: "活动详情", roles: STAFF, render: detail },
];
