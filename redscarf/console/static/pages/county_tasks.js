// 征集审核: collection tasks (an online lesson, a call for works, a feedback form) and the review
// of what families sent in. Reviewers (the county admin, brigade and squadron counselors) see
// the waiting submissions of the pupils under their unit, oldest first, and approve them (the
// task's points and badge are granted) or send them back with a reason the family reads.
// Organisers create tasks under their unit, publish and close them.

import { gql, mutate } from "../api.js";
import { label, options } from "../labels.js";
import { act, clear, errorText, field, fmt, form, h, input, loading, pager, section, select, table, toast } from "../ui.js";
import {
  checkedGrades, gradeBoxes, group, has, myUnits, ORGANISERS, reaches, required, span, STAFF, stateBadge,
  unitPicker, when, withFields,
} from "./county_work_shared.js";

// Who reviews submissions (`submission review`, tests/authz_table.py REVIEWERS).
const REVIEWERS = ["COUNTY_ADMIN", "BRIGADE_COUNSELOR", "SQUADRON_COUNSELOR"];
const TASK_TONES = { PUBLISHED: "ok", CLOSED: "" };
const SUBMISSION_TONES = { SUBMITTED: "warn", APPROVED: "ok", REJECTED: "bad" };

const TASK = `id kind title description contentUrl grades opensAt closesAt reward state createdAt
  organiser { id name path } badge { name } questions { key label kind choices required }`;

// The count of waiting submissions only for reviewers (it is their queue).
const TASKS = `query Tasks($first: Int, $after: String, $state: TaskState, $kind: TaskKind, $reviewer: Boolean!) {
  collectionTasks(first: $first, after: $after, state: $state, kind: $kind) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { ${TASK} submissions(first: 1, state: SUBMITTED) @include(if: $reviewer) { totalCount } } }
  }
}`;

const QUEUE = `query Queue($first: Int, $after: String, $task: ID, $state: SubmissionState) {
  taskSubmissions(first: $first, after: $after, taskId: $task, state: $state) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node {
      id state text fileUrls answers { key value } submittedAt reviewedAt reviewNote
      pupil { id name squadron { name } }
      task { id title kind reward questions { key label } badge { name } }
    } }
  }
}`;

async function tasks(el, params, ctx) {
  const reviewer = has(ctx, ...REVIEWERS);
  const queue = reviewer ? reviewSection() : null;
  const creating = h("div");
  clear(el,
    h("div.toolbar", h("h1", "征集审核"), h("span.grow"),
      has(ctx, ...ORGANISERS) ? h("button.primary", { type: "button", onclick: () => openCreate(creating, ctx) }, "新建征集任务") : null),
    creating,
    queue?.element,
    taskSection(ctx, queue));
}

// --- the review queue ------------------------------------------------------------------------

function reviewSection() {
  const body = h("div");
  let task = null;
  let state = "SUBMITTED";
  const taskName = h("span.hint");
  const show = () => clear(body, pager(
    async (after) => (await gql(QUEUE, { first: 10, after, task, state })).taskSubmissions,
    (rows) => (rows.length
      ? h("div", rows.map((s) => submissionCard(s, show)))
      : h("p.empty", state === "SUBMITTED" ? "没有待审核的提交" : "没有这一状态的提交"))));
  const stateFilter = select("submissionState", options("SubmissionState"), {
    "aria-label": "按审核状态筛选", onchange: (e) => { state = e.target.value; show(); },
  });
  stateFilter.value = state;
  const all = h("button.link", { type: "button", hidden: true, onclick: () => forTask(null, "") }, "看全部任务的");
  function forTask(id, title) {
    task = id;
    taskName.textContent = id ? `只看“${title}”的提交` : "";
    all.hidden = !id;
    show();
  }
  show();
  const element = section("提交审核",
    h("p.hint", "辖区内队员的提交，最早的在前。通过后发放任务的积分（和特色章）；退回须写明理由，家长可修改后再提交。"),
    h("div.toolbar", stateFilter, taskName, all),
    body);
  element.id = "review";
  return { element, forTask };
}

function submissionCard(s, refresh) {
  const labels = Object.fromEntries((s.task?.questions ?? []).map((q) => [q.key, q.label]));
  const note = input("note", { maxlength: 500, placeholder: "审核意见（退回时必填，家长看得到）", "aria-label": `对 ${s.pupil?.name ?? ""} 的审核意见` });
  const message = h("p.error", { role: "alert", hidden: true });
  const decide = (approve) => {
    const b = h(`button${approve ? ".primary" : ""}`, { type: "button", dataset: { action: approve ? "approve" : "reject" } }, approve ? "通过" : "退回");
    b.addEventListener("click", () => act(b, async () => {
      message.hidden = true;
      try {
        await mutate(`mutation Review($input: ReviewTaskSubmissionInput!) { reviewTaskSubmission(input: $input) {
          submission { id state } userErrors { field code message } } }`,
        { input: { submissionId: s.id, approve, note: note.value.trim() || null } }, "reviewTaskSubmission");
      } catch (error) {
        message.textContent = errorText(error);
        message.dataset.code = error.code || "";
        message.hidden = false;
        if (error.code === "NOTE_REQUIRED") note.focus();
        return;
      }
      toast(approve ? `已通过 ${s.pupil?.name ?? ""} 的提交${s.task?.reward ? `，发放 ${s.task.reward} 积分` : ""}` : `已退回 ${s.pupil?.name ?? ""} 的提交`);
      refresh();
    }));
    return b;
  };
  return h("article.submission", { dataset: { state: s.state } },
    h("header",
      h("strong", s.pupil?.name ?? "（辖区外队员）"),
      h("span.hint", s.pupil?.squadron?.name ?? ""),
      h("span", `“${s.task?.title ?? ""}”`, h("span.hint", ` ${label("TaskKind", s.task?.kind)}`)),
      stateBadge("SubmissionState", s.state, SUBMISSION_TONES),
      h("span.hint", `提交于 ${fmt.time(s.submittedAt)}`)),
    s.text ? h("div.work", s.text) : null,
    s.fileUrls.length ? h("ul.links", s.fileUrls.map((u, i) =>
      h("li", h("a", { href: u, target: "_blank", rel: "noopener noreferrer" }, `作品 ${i + 1}：${u}`)))) : null,
    s.answers.length ? h("dl.facts", s.answers.flatMap((a) => [h("dt", labels[a.key] ?? a.key), h("dd", a.value)])) : null,
    !s.text && !s.fileUrls.length && !s.answers.length ? h("p.hint", "（没有填写内容）") : null,
    s.reviewedAt ? h("p.hint", `审核于 ${fmt.time(s.reviewedAt)}${s.reviewNote ? `：${s.reviewNote}` : ""}`) : null,
    s.state === "SUBMITTED" ? h("div.review", note, decide(true), decide(false)) : null,
    message);
}

// --- the tasks -------------------------------------------------------------------------------

function organises(ctx, task) {
  return reaches(ctx, ORGANISERS, task.organiser?.path);
}

const STEPS = {
  publish: { mutation: "publishCollectionTask", label: "发布", done: "已发布：队员在征集时间内可以参加", from: "DRAFT" },
  close: { mutation: "closeCollectionTask", label: "结束征集", done: "征集已结束，已提交的仍可审核", from: "PUBLISHED" },
};

function taskActions(ctx, t, refresh, queue) {
  const buttons = Object.entries(STEPS)
    .filter(([, s]) => s.from === t.state && organises(ctx, t))
    .map(([step, s]) => {
      const b = h(`button${step === "publish" ? ".primary" : ""}`, { type: "button", dataset: { step }, "aria-label": `${s.label} ${t.title}` }, s.label);
      b.addEventListener("click", () => act(b, async () => {
        await mutate(`mutation Step($id: ID!) { ${s.mutation}(input: {id: $id}) { task { id state } userErrors { field code message } } }`,
          { id: t.id }, s.mutation);
        refresh();
      }, s.done));
      return b;
    });
  if (queue && t.kind !== "LESSON") {
    buttons.push(h("button", { type: "button", onclick: () => { queue.forTask(t.id, t.title); queue.element.scrollIntoView(); } }, "查看提交"));
  }
  return h("div.actions", buttons);
}

function taskSection(ctx, queue) {
  const body = h("div");
  let state = null;
  let kind = null;
  const show = () => clear(body, pager(
    async (after) => (await gql(TASKS, { first: 20, after, state, kind, reviewer: Boolean(queue) })).collectionTasks,
    (rows) => table([
      ["任务", (t) => h("div", h("strong", t.title), t.description ? h("div.hint", t.description) : null)],
      ["类型", (t) => label("TaskKind", t.kind)],
      ["发布单位", (t) => t.organiser?.name ?? "—"],
      ["征集时间", (t) => span(t.opensAt, t.closesAt)],
      ["面向年级", (t) => (t.grades?.length ? t.grades.join("、") : "不限")],
      ["奖励", (t) => h("span", `${t.reward} 积分`, t.badge ? h("div.hint", t.badge.name) : null)],
      queue ? ["待审核", (t) => (t.kind === "LESSON" ? "—" : fmt.number(t.submissions.totalCount))] : null,
      ["状态", (t) => stateBadge("TaskState", t.state, TASK_TONES)],
      ["", (t) => taskActions(ctx, t, show, queue)],
    ].filter(Boolean), rows, "没有符合条件的征集任务")));
  const filters = h("div.toolbar",
    select("taskState", [["", "全部状态"], ...options("TaskState")], {
      "aria-label": "按任务状态筛选", onchange: (e) => { state = e.target.value || null; show(); } }),
    select("taskKind", [["", "全部类型"], ...options("TaskKind")], {
      "aria-label": "按任务类型筛选", onchange: (e) => { kind = e.target.value || null; show(); } }));
  show();
  return section("征集任务", filters, body);
}

// --- a new task ------------------------------------------------------------------------------

const CREATE = `mutation NewTask($input: CreateCollectionTaskInput!) {
  createCollectionTask(input: $input) { task { id title state } userErrors { field code message } }
}`;

const CREATE_FIELDS = {
  TITLE_REQUIRED: "title", INVALID_WINDOW: "closesAt", INVALID_POINTS: "reward", INVALID_GRADES: "grades",
  INVALID_CONTENT_URL: "contentUrl", INVALID_QUESTIONS: "questions", INVALID_BADGE: "badgeId",
  UNIT_NOT_FOUND: "organiserId", INVALID_ORGANISER: "organiserId", FORBIDDEN: "organiserId",
};

// The questions of a feedback form: a row each (question, kind, choices, required).
function questionEditor() {
  const rows = h("div.question-rows");
  function add() {
    const row = h("div.question-row",
      input("", { placeholder: "题目", "aria-label": "题目", dataset: { q: "label" } }),
      select("", [["TEXT", "填空"], ["CHOICE", "单选"]], { "aria-label": "题型", dataset: { q: "kind" } }),
      input("", { placeholder: "选项，用顿号或逗号分开（单选题）", "aria-label": "选项", dataset: { q: "choices" } }),
      h("label.check", h("input", { type: "checkbox", dataset: { q: "required" } }), "必答"),
      h("button.link", { type: "button", onclick: () => row.remove() }, "删除"));
    rows.append(row);
  }
  add();
  const box = h("div", rows, h("button", { type: "button", onclick: add }, "添加题目"));
  box.read = () => [...rows.children].map((row, i) => {
    const q = (name) => row.querySelector(`[data-q=${name}]`);
    const kind = q("kind").value;
    return {
      key: `q${i + 1}`, label: q("label").value.trim(), kind, required: q("required").checked,
      choices: kind === "CHOICE" ? q("choices").value.split(/[、,，;；]/).map((c) => c.trim()).filter(Boolean) : null,
    };
  }).filter((q) => q.label);
  return box;
}

async function openCreate(box, ctx) {
  if (box.firstChild) return box.querySelector("input")?.focus();
  await loading(box, async () => {
    const [units, badges] = await Promise.all([myUnits(ctx, ORGANISERS), gql(`{ badges { id name level } }`)]);
    const special = badges.badges.filter((b) => b.level === "SPECIAL");
    const questions = questionEditor();
    const lessonOnly = field("课程链接", input("contentUrl", { type: "url", placeholder: "https://" }), "队员学完即记录并奖励");
    const formOnly = group("问卷题目", questions, "questions");
    const kind = select("kind", options("TaskKind"));
    const showKind = () => { lessonOnly.hidden = kind.value !== "LESSON"; formOnly.hidden = kind.value !== "FEEDBACK"; };
    kind.addEventListener("change", showKind);
    showKind();
    const now = new Date();
    const f = form([
      field("任务类型", kind),
      field("任务名称", input("title", { maxlength: 100, placeholder: "如：红领巾心向党征文" })),
      group("发布单位", unitPicker(ctx, units, { name: "organiserId" }), "organiserId", "只有该单位之下的队员可以参加"),
      field("说明", h("textarea", { name: "description", rows: 3, maxlength: 2000 })),
      lessonOnly,
      formOnly,
      h("div.pair",
        field("开始时间", input("opensAt", { type: "datetime-local", value: when.input(now) })),
        field("截止时间", input("closesAt", { type: "datetime-local", value: when.input(when.at(when.addDays(now, 14), 23, 59)) }))),
      group("面向年级", gradeBoxes(), "grades", "都不选则不限年级"),
      h("div.pair",
        field("奖励积分", input("reward", { type: "number", min: 0, value: 0 }), "完成或审核通过后发放"),
        field("颁发特色章", select("badgeId", [["", "不颁发"], ...special.map((b) => [b.id, b.name])]))),
    ], async (v, formEl) => {
      required(v, { title: "任务名称", organiserId: "发布单位", opensAt: "开始时间", closesAt: "截止时间" });
      const p = await withFields(CREATE_FIELDS, () => mutate(CREATE, { input: {
        organiserId: v.organiserId, kind: v.kind, title: v.title, description: v.description,
        contentUrl: v.kind === "LESSON" ? v.contentUrl : null,
        questions: v.kind === "FEEDBACK" ? questions.read() : null,
        grades: checkedGrades(formEl), opensAt: when.iso(v.opensAt), closesAt: when.iso(v.closesAt),
        reward: v.reward ?? 0, badgeId: v.badgeId,
      } }, "createCollectionTask"));
      toast(`已创建“${p.task.title}”（草稿）：发布后队员才能参加`);
      tasks(box.closest("main"), {}, ctx);
    }, "创建任务");
    return section("新建征集任务", f, h("div.actions", h("button.link", { type: "button", onclick: () => clear(box) }, "收起")));
  });
}

export const pages = [
  { path: "county/tasks", title: "征集审核", menu: "county", roles: STAFF, render: tasks },
];
