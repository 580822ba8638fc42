// The guardian's (家长) pages, for a phone: each bound child's points, badges, history and
// growth archive; the activities the child may sign up for (the cost held, given back on
// cancelling); the exchange (a pickup code for the points); collection tasks. The frame, the
// children and binding a child are in guardian_frame.js. A guardian signs in on the login
// page's 家长 tab with a code sent to the phone.

import { download, gql, mutate } from "../api.js";
import { label } from "../labels.js";
import { act, clear, field, fmt, form, h, input, pager, section, select } from "../ui.js";
import {
  USER_ERRORS, bindPage, childCard, confirmIn, flashBox, guardianPage, moreList, pointsFigures, pointsLine, signed,
  takeFlash, when,
} from "./guardian_frame.js";

const ACTIVE_SIGNUP = new Set(["CONFIRMED", "WAITLISTED"]);

// --- home: points, badges, history, archive ------------------------------------------------

function awardState(state) {
  const kind = { AWARDED: "ok", REJECTED: "bad", REVOKED: "bad" }[state] || "warn";
  return h(`span.badge.${kind}`, label("AwardState", state));
}

async function home(body, family) {
  const child = family.child;
  const { pupil } = await gql(`query Child($id: ID!) { pupil(id: $id) {
      id name joinedOn points { balance held available }
      badges { id badge { name level } state academicYear term points awardedAt }
      archive { on kind title detail points } } }`, { id: child.id }, { county: child.county });
  if (!pupil) return clear(body, h("p.empty", "看不到这个孩子的信息，可能已解除绑定。"));
  const history = pager(async (after) => {
    const data = await gql(`query History($id: ID!, $after: String) { pupil(id: $id) {
        pointsHistory(first: 10, after: $after) {
          edges { node { amount kind memo at balanceAfter } } pageInfo { hasNextPage endCursor } } } }`,
    { id: child.id, after }, { county: child.county });
    return data.pupil.pointsHistory;
  }, (entries) => (entries.length ? h("ul.plain.g-history", entries.map((e) => h("li.g-row",
    h("div", h("div", e.memo || label("PointsEntryKind", e.kind)),
      h("small.hint", `${when(e.at)} · ${label("PointsEntryKind", e.kind)} · 余额 ${e.balanceAfter}`)),
    h(`span.g-amount${e.amount < 0 ? ".minus" : ""}`, signed(e.amount))))) : h("p.empty", "还没有积分记录")));
  const archive = [...pupil.archive].reverse(); // newest first: a parent checks what is new
  clear(body,
    childCard(child),
    pointsFigures(pupil.points),
    flashBox(takeFlash()),
    section("奖章", pupil.badges.length ? h("ul.plain", pupil.badges.map((b) => h("li.g-row",
      h("div", h("div", b.badge.name),
        h("small.hint", [label("BadgeLevel", b.badge.level), `${b.academicYear} 学年${b.term ? `第 ${b.term} 学期` : ""}`,
          b.points ? `${signed(b.points)} 积分` : null].filter(Boolean).join(" · "))),
      awardState(b.state)))) : h("p.empty", "还没有奖章，继续加油！")),
    section("积分明细", history),
    section("成长档案",
      moreList(archive, 8, (a) => h("li.g-row",
        h("div", h("div", a.title, a.detail ? h("span.hint", `：${a.detail}`) : null),
          h("small.hint", `${fmt.date(a.on)} · ${label("ArchiveKind", a.kind)}`)),
        a.points ? h(`span.g-amount${a.points < 0 ? ".minus" : ""}`, signed(a.points)) : null), "成长档案还是空的"),
      h("div.actions", h("button", {
        type: "button",
        onclick: (e) => act(e.currentTarget, () => download(
          `/exports/archive.html?pupil=${encodeURIComponent(child.id)}`, `${child.name}-成长档案.html`)),
      }, "下载成长档案（可打印）"))));
  return body;
}

// --- activities ----------------------------------------------------------------------------

const ACTIVITY_FIELDS = `id title place startsAt endsAt signupClosesAt cancelUntil capacity placesLeft
  waitlisted cost reward state organiser { name }`;

function signupState(s) {
  const kind = { CONFIRMED: "ok", ATTENDED: "ok", WAITLISTED: "warn", NO_SHOW: "bad", LAPSED: "bad" }[s.state] || "";
  const text = s.state === "WAITLISTED" && s.position ? `候补第 ${s.position} 位` : label("SignupState", s.state);
  return h(`span.badge${kind ? `.${kind}` : ""}`, { dataset: { state: s.state } }, text);
}

function cancellable(signup) {
  const until = signup.activity?.cancelUntil;
  return ACTIVE_SIGNUP.has(signup.state) && (!until || new Date(until) > new Date());
}

// The family may check in with the code shown at the venue, from an hour before the start.
function checkInOpen(signup) {
  const a = signup.activity;
  const now = Date.now();
  return signup.state === "CONFIRMED" && a && now >= new Date(a.startsAt) - 3600e3 && now <= new Date(a.endsAt);
}

async function activities(body, family, ctx) {
  const child = family.child;
  const county = { county: child.county };
  const read = async () => (await gql(`query Mine($id: ID!) { pupil(id: $id) {
      points { balance held available }
      activitySignups { id state position createdAt activity { ${ACTIVITY_FIELDS} } } } }`, { id: child.id }, county)).pupil;

  // After an action: the page again, with what happened to the points said at the top.
  async function show(flash) {
    const pupil = await read();
    const active = new Map(pupil.activitySignups.filter((s) => ACTIVE_SIGNUP.has(s.state)).map((s) => [s.activity?.id, s]));
    const available = pupil.points.available;

    const signUp = (a, card) => confirmIn(card, [
      a.cost ? `报名将预留 ${a.cost} 积分：可用积分 ${available} → ${available - a.cost}。` : "这项活动不需要积分。",
      a.cost ? `签到后结算；${a.cancelUntil ? `${when(a.cancelUntil)} 前` : "活动结束前"}取消报名，预留的积分全部退还。` : null,
      a.placesLeft ? null : "名额已满，报名后将进入候补，有名额时按顺序递补。",
      a.reward ? `按时签到奖励 ${a.reward} 积分。` : null,
    ].filter(Boolean), "确认报名", async () => {
      const done = await mutate(`mutation SignUp($a: ID!, $p: ID!) {
        signUpForActivity(input: {activityId: $a, pupilIds: [$p]}) { signups { id state position } ${USER_ERRORS} } }`,
      { a: a.id, p: child.id }, "signUpForActivity", county);
      const s = done.signups[0];
      const after = (await read()).points;
      await show([
        s.state === "WAITLISTED"
          ? `已为${child.name}报名「${a.title}」，候补第 ${s.position} 位：有名额时按顺序递补，递补时预留积分。`
          : `已为${child.name}报名「${a.title}」。`,
        pointsLine(pupil.points, after, "预留"),
      ]);
    });

    const cancel = (signup, card) => confirmIn(card, [
      `取消「${signup.activity.title}」的报名${signup.state === "CONFIRMED" && signup.activity.cost ? `，预留的 ${signup.activity.cost} 积分将全部退还` : ""}。`,
    ], "确认取消报名", async () => {
      await mutate(`mutation Withdraw($s: ID!) { cancelActivitySignup(input: {signupId: $s}) { signup { state } ${USER_ERRORS} } }`,
        { s: signup.id }, "cancelActivitySignup", county);
      const after = (await read()).points;
      await show([
        `已取消「${signup.activity.title}」的报名。`,
        pointsLine(pupil.points, after, "退还"),
      ]);
    });

    const checkIn = (signup, card) => {
      card.querySelector(".g-confirm")?.remove();
      const code = input("code", { inputmode: "numeric", maxlength: 6, autocomplete: "off" });
      const f = form([field("现场签到码", code, "活动现场组织者出示的 6 位数字")], async (v) => {
        await mutate(`mutation CheckIn($a: ID!, $p: ID!, $c: String!) {
          checkInWithCode(input: {activityId: $a, pupilId: $p, code: $c}) { signup { state } ${USER_ERRORS} } }`,
        { a: signup.activity.id, p: child.id, c: v.code || "" }, "checkInWithCode", county);
        const after = (await read()).points;
        await show([`${child.name}已在「${signup.activity.title}」签到，报名预留的积分已结算，签到奖励已发放。`,
          pointsLine(pupil.points, after, after.available > pupil.points.available ? "增加" : "减少")]);
      }, "签到");
      card.append(h("div.g-confirm", f));
    };

    const activityCard = (a) => {
      const mine = active.get(a.id);
      const card = h("article.g-activity", { dataset: { activity: a.id } },
        h("h3", a.title),
        h("p.hint", [a.organiser?.name, a.place].filter(Boolean).join(" · ")),
        h("dl.facts",
          h("dt", "活动时间"), h("dd", `${when(a.startsAt)} – ${when(a.endsAt)}`),
          h("dt", "报名截止"), h("dd", when(a.signupClosesAt)),
          h("dt", "剩余名额"), h("dd", `${a.placesLeft} / ${a.capacity}${a.waitlisted ? `（候补 ${a.waitlisted} 人）` : ""}`),
          h("dt", "报名预留"), h("dd", { dataset: { cost: a.cost } }, a.cost ? `${a.cost} 积分` : "免费"),
          h("dt", "签到奖励"), h("dd", a.reward ? `${a.reward} 积分` : "—")));
      const actions = h("div.actions");
      if (mine) {
        actions.append(signupState(mine));
        if (cancellable(mine)) actions.append(h("button", { type: "button", onclick: () => cancel({ ...mine, activity: a }, card) }, "取消报名"));
      } else {
        actions.append(h("button.primary", { type: "button", onclick: () => signUp(a, card) }, a.placesLeft ? "报名" : "报名候补"));
      }
      card.append(actions);
      return card;
    };

    const open = pager(async (after) => (await gql(`query Open($id: ID!, $after: String) {
        activities(forPupil: $id, first: 10, after: $after) {
          totalCount edges { node { ${ACTIVITY_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
    { id: child.id, after }, county)).activities,
    (list) => (list.length ? h("div.g-cards", list.map(activityCard)) : h("p.empty", "现在没有可以报名的活动")));

    const signupRow = (s) => {
      const row = h("li.g-signup", { dataset: { signup: s.id } },
        h("div.g-row", h("div", h("div", s.activity?.title ?? "—"),
          h("small.hint", `${when(s.activity?.startsAt)} · 报名于 ${when(s.createdAt)}`)), signupState(s)));
      const buttons = h("div.actions");
      if (checkInOpen(s)) buttons.append(h("button.primary", { type: "button", onclick: () => checkIn(s, row) }, "签到"));
      if (cancellable(s)) buttons.append(h("button", { type: "button", onclick: () => cancel(s, row) }, "取消报名"));
      if (buttons.childNodes.length) row.append(buttons);
      return row;
    };

    clear(body,
      childCard(child),
      pointsFigures(pupil.points),
      flashBox(flash),
      section("可以报名的活动", open),
      h("section.card.g-signups", h("h2", "报名记录"),
        moreList(pupil.activitySignups, 10, signupRow, "还没有报名过活动")));
    if (flash) body.querySelector(".g-flash").scrollIntoView({ block: "nearest" });
  }
  await show(null);
  return body;
}

// --- the exchange --------------------------------------------------------------------------

function redemptionState(r) {
  const kind = { ISSUED: "warn", VERIFIED: "ok", EXPIRED: "" }[r.state];
  return h(`span.badge${kind ? `.${kind}` : ""}`, label("RedemptionState", r.state));
}

function pickupCode(r) {
  return h("div.g-code", { dataset: { code: r.code } },
    h("div.t", `「${r.itemName}」兑换码`),
    h("div.n", r.code.replace(/(.{5})(?=.)/g, "$1 ")),
    h("div.t", `请在 ${when(r.expiresAt)} 前到合作单位出示领取，逾期积分自动退还`));
}

async function exchange(body, family) {
  const child = family.child;
  const county = { county: child.county };
  const read = async () => gql(`query Shop($id: ID!) {
      pupil(id: $id) { points { balance held available }
        redemptions { id itemName price state code codeHint createdAt expiresAt verifiedAt } }
      exchangeItems(onSale: true) { id name description partnerName price stock perPupil validUntil pickupDays } }`,
  { id: child.id }, county);

  async function show(flash, fresh) {
    const { pupil, exchangeItems } = await read();
    const available = pupil.points.available;
    const redeem = (item, card) => confirmIn(card, [
      `兑换「${item.name}」将使用 ${item.price} 积分：可用积分 ${available} → ${available - item.price}。`,
      `兑换后 ${item.pickupDays} 天内到${item.partnerName}出示兑换码领取，逾期未领积分自动退还。`,
    ], "确认兑换", async () => {
      const done = await mutate(`mutation Redeem($i: ID!, $p: ID!) {
        redeemItem(input: {itemId: $i, pupilId: $p}) { redemption { id itemName price state code expiresAt } ${USER_ERRORS} } }`,
      { i: item.id, p: child.id }, "redeemItem", county);
      const after = (await read()).pupil.points;
      await show([`已兑换「${item.name}」，请凭下面的兑换码领取。`, pointsLine(pupil.points, after, "使用")], done.redemption);
    });
    const itemCard = (item) => {
      const card = h("article.g-activity", { dataset: { item: item.id } },
        h("h3", item.name),
        h("p.hint", [item.partnerName, item.description].filter(Boolean).join(" · ")),
        h("dl.facts",
          h("dt", "所需积分"), h("dd", `${item.price} 积分`),
          h("dt", "剩余"), h("dd", `${item.stock} 件 · 每人限 ${item.perPupil} 件`),
          h("dt", "兑换截止"), h("dd", when(item.validUntil))));
      card.append(h("div.actions", h("button.primary", {
        type: "button", disabled: item.stock < 1, onclick: () => redeem(item, card),
      }, item.stock < 1 ? "已兑完" : "兑换")));
      return card;
    };
    clear(body,
      childCard(child),
      pointsFigures(pupil.points),
      flashBox(flash),
      fresh ? pickupCode(fresh) : null,
      section("可兑换的物品", exchangeItems.length ? h("div.g-cards", exchangeItems.map(itemCard)) : h("p.empty", "现在没有可兑换的物品")),
      section("兑换记录", moreList(pupil.redemptions, 10, (r) => h("li",
        h("div.g-row", h("div", h("div", r.itemName), h("small.hint", `${when(r.createdAt)} · ${r.price} 积分`)), redemptionState(r)),
        r.state === "ISSUED" && r.code ? pickupCode(r) : null), "还没有兑换过物品")));
    if (fresh) body.querySelector(".g-code").scrollIntoView({ block: "nearest" });
  }
  await show(null, null);
  return body;
}

// --- collection tasks ----------------------------------------------------------------------

const TASK_FIELDS = `id kind title description contentUrl closesAt reward badge { name } organiser { name }
  questions { key label kind choices required }`;

function submissionState(s) {
  const kind = { SUBMITTED: "warn", APPROVED: "ok", REJECTED: "bad" }[s.state];
  return h(`span.badge.${kind}`, { dataset: { state: s.state } }, label("SubmissionState", s.state));
}

// A work (text and links to the files) or a feedback form (the task's questions); a work
// sent back is shown again as it was, to be corrected.
function workForm(task, sent, submit) {
  const answer = (key) => sent?.answers.find((a) => a.key === key)?.value ?? "";
  const fields = task.kind === "FEEDBACK"
    ? task.questions.map((q) => field(q.required ? `${q.label}（必答）` : q.label, q.kind === "CHOICE"
      ? select(`answer:${q.key}`, [["", "请选择"], ...q.choices.map((c) => [c, c])])
      : h("textarea", { name: `answer:${q.key}`, rows: 3 }, answer(q.key))))
    : [
      field("作品说明", h("textarea", { name: "text", rows: 4 }, sent?.text ?? "")),
      field("作品链接", h("textarea", { name: "fileUrls", rows: 3 }, (sent?.fileUrls ?? []).join("\n")),
        "图片或视频的 https 链接，每行一个，最多 9 个"),
    ];
  const f = form(fields, (v) => submit({
    text: v.text ?? null,
    fileUrls: v.fileUrls ? v.fileUrls.split(/\s+/).filter(Boolean) : null,
    answers: task.kind === "FEEDBACK"
      ? task.questions.map((q) => ({ key: q.key, value: v[`answer:${q.key}`] ?? "" })).filter((a) => a.value)
      : null,
  }), sent ? "重新提交" : "提交");
  // select() cannot preselect: a form sent back keeps its choices
  for (const q of task.kind === "FEEDBACK" ? task.questions : []) {
    if (q.kind === "CHOICE") f.elements[`answer:${q.key}`].value = answer(q.key);
  }
  return h("details.g-work", { open: sent?.state === "REJECTED" },
    h("summary", task.kind === "FEEDBACK" ? "填写问卷" : "提交作品"), f);
}

async function tasks(body, family) {
  const child = family.child;
  const county = { county: child.county };
  async function show(flash) {
    const { pupil, collectionTasks } = await gql(`query Tasks($id: ID!) {
        pupil(id: $id) { points { balance held available }
          taskSubmissions { id state text fileUrls answers { key value } submittedAt reviewNote task { id title reward } } }
        collectionTasks(forPupil: $id, first: 50) { edges { node { ${TASK_FIELDS} } } } }`, { id: child.id }, county);
    const sentFor = new Map([...pupil.taskSubmissions].reverse().map((s) => [s.task?.id, s])); // the newest wins

    const send = async (task, mutation, input) => {
      const done = await mutate(mutation, { i: { taskId: task.id, pupilId: child.id, ...input } },
        task.kind === "LESSON" ? "completeLesson" : "submitTaskWork", county);
      await show(done.submission.state === "APPROVED"
        ? [`「${task.title}」已完成。`, task.reward ? `奖励 ${task.reward} 积分已发放。` : "已记入成长档案。"]
        : [`「${task.title}」已提交，等待辅导员审核。`, task.reward ? `审核通过后奖励 ${task.reward} 积分。` : "审核结果会在这里显示。"]);
    };

    const taskCard = (task) => {
      const sent = sentFor.get(task.id);
      const card = h("article.g-activity", { dataset: { task: task.id } },
        h("h3", task.title),
        h("p.hint", [label("TaskKind", task.kind), task.organiser?.name].filter(Boolean).join(" · ")),
        task.description ? h("p", task.description) : null,
        h("dl.facts",
          h("dt", "截止时间"), h("dd", when(task.closesAt)),
          h("dt", "奖励"), h("dd", [task.reward ? `${task.reward} 积分` : null, task.badge?.name].filter(Boolean).join(" · ") || "—")),
        sent ? h("div.row", submissionState(sent), sent.reviewNote ? h("small.hint", `辅导员：${sent.reviewNote}`) : null) : null);
      if (sent && sent.state !== "REJECTED") return card; // done, or waiting for the review
      if (task.kind === "LESSON") {
        const done = h("button.primary", { type: "button" }, "已学完");
        done.addEventListener("click", () => act(done, () => send(task, `mutation Learnt($i: CompleteLessonInput!) {
          completeLesson(input: $i) { submission { state } ${USER_ERRORS} } }`, {})));
        card.append(h("div.actions",
          task.contentUrl ? h("a.button", { href: task.contentUrl, target: "_blank", rel: "noopener" }, "去学习") : null, done));
      } else {
        card.append(workForm(task, sent, (input) => send(task, `mutation Send($i: SubmitTaskWorkInput!) {
          submitTaskWork(input: $i) { submission { state } ${USER_ERRORS} } }`, input)));
      }
      return card;
    };

    clear(body,
      childCard(child),
      pointsFigures(pupil.points),
      flashBox(flash),
      section("可以参加的任务", collectionTasks.edges.length
        ? h("div.g-cards", collectionTasks.edges.map((e) => taskCard(e.node))) : h("p.empty", "现在没有可以参加的征集任务")),
      section("提交记录", moreList(pupil.taskSubmissions, 10, (s) => h("li.g-row",
        h("div", h("div", s.task?.title ?? "—"),
          h("small.hint", [`提交于 ${when(s.submittedAt)}`, s.reviewNote].filter(Boolean).join(" · "))),
        submissionState(s)), "还没有参加过征集任务")));
  }
  await show(null);
  return body;
}

const GUARDIAN = ["GUARDIAN"];

export const pages = [
  // A parent who has not bound a child yet holds no role; the shell counts them as GUARDIAN.
  { path: "guardian", roles: GUARDIAN, title: "家长首页", layout: "mobile", home: true, render: guardianPage("guardian", home) },
  { path: "guardian/activities", roles: GUARDIAN, title: "活动报名", layout: "mobile", render: guardianPage("guardian/activities", activities) },
  { path: "guardian/exchange", roles: GUARDIAN, title: "积分兑换", layout: "mobile", render: guardianPage("guardian/exchange", exchange) },
  { path: "guardian/tasks", roles: GUARDIAN, title: "征集任务", layout: "mobile", render: guardianPage("guardian/tasks", tasks) },
  { path: "guardian/bind", roles: GUARDIAN, title: "绑定孩子", layout: "mobile", render: guardianPage("guardian/bind", bindPage, { needsChild: false }) },
];
