// 审计日志: who did what in the county and when, newest first (the county admin's). Every
// change through the API is written in the same transaction as the change itself, and so is
// every look at a pupil's full personal data. The log is read 50 entries at a time ("更多"
// asks for the ones before the last shown); the search box filters what is already loaded.

import { gql } from "../api.js";
import { label } from "../labels.js";
import { clear, errorBox, fmt, h, input, table } from "../ui.js";

const LOG = `query Audit($first: Int!, $before: ID) {
  auditLog(first: $first, beforeId: $before) { id at actor roles action objectType objectId fields client }
}`;
const PAGE = 50;

// Actions that are not mutations (reads and files); the mutations are named by the schema.
const OTHER_ACTIONS = {
  reveal: "查看完整个人信息",
  exportPupils: "导出队员名册",
  exportArchive: "导出成长档案",
  downloadArchives: "下载成长档案包",
  importPupils: "导入队员名册",
  importUnits: "导入组织",
  importCounselors: "导入辅导员",
  importOneStar: "导入一星章名单",
};

const OBJECTS = {
  Activity: "活动", ActivitySignup: "活动报名", ApiKey: "应用密钥", ArchiveExport: "档案导出",
  AwardObjection: "奖章异议", Badge: "奖章", BadgeAward: "奖章记录", BadgeQuota: "奖章名额",
  CareRecord: "关爱记录", CollectionTask: "征集任务", County: "县（区）", CountySetting: "县（区）设置",
  DataRequest: "个人信息请求", ExchangeItem: "兑换物品", Invitation: "邀请", Pairing: "结对",
  Partner: "合作单位", Phone: "手机号", PointsRule: "积分规则", Pupil: "队员", Redemption: "兑换",
  RegisteredQuery: "登记的查询", RoleAssignment: "角色授权", TaskSubmission: "征集提交", Unit: "单位",
  User: "账号", VolunteerProject: "志愿服务项目",
};

// Mutation name → the first words of its description in the schema ("新设单位（…）" → "新设单位").
let actionNames = null;
async function loadActionNames() {
  if (actionNames) return actionNames;
  const data = await gql(`{ __schema { mutationType { fields { name description } } } }`);
  actionNames = { ...OTHER_ACTIONS };
  for (const f of data.__schema.mutationType.fields) {
    const words = (f.description || "").split(/[（(；;。]/)[0].trim();
    if (words) actionNames[f.name] = words.length > 24 ? `${words.slice(0, 23)}…` : words;
  }
  return actionNames;
}

// "county_admin,brigade_counselor" (the roles the actor held then) → "县级管理员、大队辅导员".
function roleNames(roles) {
  return roles.split(/[,\s]+/).filter(Boolean).map((r) => label("Role", r.toUpperCase())).join("、");
}

// "Mozilla/5.0 (…) Chrome/126.0 Safari/537.36 @ 10.0.0.7" → "Chrome 126 · 10.0.0.7" (the whole
// string stays in the cell's tooltip).
function clientName(client) {
  const [agent, address] = client.split(" @ ");
  const known = [[/MicroMessenger\/([\d]+)/, "微信"], [/Edg\/(\d+)/, "Edge"], [/Firefox\/(\d+)/, "Firefox"],
    [/Chrome\/(\d+)/, "Chrome"], [/Version\/(\d+).*Safari/, "Safari"]];
  const found = known.find(([re]) => re.test(agent));
  const name = found ? `${found[1]} ${agent.match(found[0])[1]}` : agent.split(" ")[0];
  return address ? `${name} · ${address}` : name;
}

function actionCell(e) {
  return h("div", h("div", actionNames[e.action] ?? e.action), h("code", e.action));
}

function targetCell(e) {
  if (!e.objectType) return "—";
  return h("div", `${OBJECTS[e.objectType] ?? e.objectType}${e.objectId ? ` #${e.objectId}` : ""}`,
    e.fields?.length ? h("div.hint", `字段：${e.fields.join("、")}`) : null);
}

async function audit(el) {
  const entries = [];
  const body = h("div");
  const more = h("button", { type: "button", hidden: true }, "更多（更早的记录）");
  const status = h("span.hint");
  const search = input("auditSearch", { type: "search", placeholder: "按操作者、操作或对象筛选已加载的记录", "aria-label": "筛选审计日志" });

  function matches(e, q) {
    if (!q) return true;
    return [e.actor, e.roles, e.action, actionNames[e.action], OBJECTS[e.objectType], e.objectType, e.objectId, e.client]
      .some((v) => v && String(v).toLowerCase().includes(q));
  }

  function render() {
    const q = search.value.trim().toLowerCase();
    const shown = entries.filter((e) => matches(e, q));
    clear(body, h("div.audit", table([
      ["时间", (e) => fmt.time(e.at)],
      ["操作者", (e) => h("div", h("div", e.actor), e.roles ? h("div.hint", roleNames(e.roles)) : null)],
      ["操作", actionCell],
      ["对象", targetCell],
      ["客户端", (e) => (e.client ? h("small.hint", { title: e.client }, clientName(e.client)) : "—")],
    ], shown, q ? "已加载的记录中没有符合的" : "还没有审计记录")));
    status.textContent = `已加载 ${entries.length} 条${q ? `，符合 ${shown.length} 条` : ""}`;
  }

  async function load() {
    more.disabled = true;
    try {
      const before = entries.length ? entries[entries.length - 1].id : null;
      const page = (await gql(LOG, { first: PAGE, before })).auditLog;
      entries.push(...page);
      more.hidden = page.length < PAGE;
      render();
    } catch (error) {
      clear(body, errorBox(error));
    } finally {
      more.disabled = false;
    }
  }

  more.addEventListener("click", load);
  search.addEventListener("input", render);
  clear(el,
    h("div.toolbar", h("h1", "审计日志")),
    h("section.card",
      h("p.hint", "本县（区）的每一项变更和对个人信息的每一次完整查看，最新的在前。记录不能修改或删除。"),
      h("div.toolbar", search, status),
      body,
      h("div.actions", more)));
  clear(body, h("p.loading", "加载中…"));
  try {
    await loadActionNames();
  } catch {
    actionNames = { ...OTHER_ACTIONS }; // the names are a nicety: the codes still show
  }
  await load();
}

export const pages = [
  { path: "county/audit", title: "审计日志", menu: "county", roles: ["COUNTY_ADMIN"], render: audit },
];
