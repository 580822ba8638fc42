// The frame of the guardian's (家长) pages (pages/guardian.js): who is signed in and their
// children, the header with signing out, the switcher between children and the tabs between
// pages, binding a child, and the small pieces every guardian page uses.
//
// A guardian may have children in several counties (a binding gives the GUARDIAN role in the
// child's county), so every request names the child's county (X-County) itself.

import { UserErrors, gql, mutate, session, signOut } from "../api.js";
import { label, options } from "../labels.js";
import { clear, errorBox, errorText, field, form, h, input, section, select } from "../ui.js";

const NOTICE_VERSION = "2026-09"; // the personal information notice the binding form shows
const CHILD_KEY = "redscarf.guardian.child"; // the child last chosen, for this tab
export const USER_ERRORS = "userErrors { field code message }";
let nextFlash = null; // what the next page shown should say happened (after binding, unbinding)

// --- the family ----------------------------------------------------------------------------

// Who is signed in and their children, read afresh on every page: a binding made a moment
// ago gives a new county, which the shell's copy of the grants does not know yet.
async function loadFamily() {
  const { me } = await gql(`query Me { me { name grants { role countyCode } } }`);
  const counties = [...new Set(me.grants.filter((g) => g.role === "GUARDIAN").map((g) => g.countyCode))];
  const lists = await Promise.all(counties.map(async (county) => {
    const data = await gql(`query Children {
      county { name }
      pupils(first: 50) { edges { node { id name grade status squadron { name } } } }
    }`, {}, { county });
    return data.pupils.edges.map((e) => ({ ...e.node, county, countyName: data.county.name }));
  }));
  const children = lists.flat();
  const chosen = children.find((c) => c.id === sessionStorage.getItem(CHILD_KEY)) || children[0] || null;
  // Files (the archive) are fetched with the session's county: the chosen child's.
  if (chosen) session.county = chosen.county;
  return {
    name: me.name,
    counties,
    children,
    child: chosen,
    staffOnly: !counties.length && me.grants.length > 0,
  };
}

function choose(childId) {
  sessionStorage.setItem(CHILD_KEY, childId);
}

// --- the frame of every guardian page ------------------------------------------------------

// The shell's header is not shown on a phone: the page brings its own, with signing out.
async function signOutHere(go) {
  await signOut();
  sessionStorage.removeItem(CHILD_KEY);
  go("login/guardian");
}

const TABS = [
  ["guardian", "成长"],
  ["guardian/activities", "活动"],
  ["guardian/exchange", "兑换"],
  ["guardian/tasks", "任务"],
  ["guardian/bind", "绑定"],
];

function frame(el, family, current, ctx) {
  const switcher = family.children.length > 1
    ? h("div.pupil-tabs", { role: "tablist", "aria-label": "选择孩子" }, family.children.map((c) =>
      h("button", {
        type: "button", role: "tab", class: c === family.child ? "active" : "",
        "aria-selected": String(c === family.child), dataset: { child: c.id },
        onclick: () => { choose(c.id); ctx.go(current); },
      }, c.name)))
    : null;
  const body = h("div.g-body");
  clear(el,
    h("header.g-top",
      h("div.g-brand", "红领巾 · 家长"),
      h("span.g-who", family.name),
      h("button.link", { type: "button", dataset: { action: "sign-out" }, onclick: () => signOutHere(ctx.go) }, "退出登录")),
    switcher,
    family.children.length ? h("nav.g-tabs", TABS.map(([path, title]) =>
      h("a", { href: `#/${path}`, class: path === current ? "active" : "" }, title))) : null,
    body);
  return body;
}

// Every guardian page: the frame, then `build(body, family)` for the chosen child.
export function guardianPage(current, build, { needsChild = true } = {}) {
  return async (el, params, ctx) => {
    clear(el, h("p.loading", "加载中…"));
    const family = await loadFamily();
    const body = frame(el, family, current, ctx);
    if (family.staffOnly) {
      return clear(body, h("p.empty", "这是家长使用的页面。工作人员请回到"), h("a", { href: "#/" }, "工作台首页"));
    }
    if (needsChild && !family.child) return welcome(body, family, ctx);
    try {
      return await build(body, family, ctx, params);
    } catch (error) {
      return clear(body, errorBox(error));
    }
  };
}

// --- small pieces --------------------------------------------------------------------------

// 12/8 21:44: short enough for a phone.
export function when(v) {
  if (!v) return "—";
  return new Date(v).toLocaleString("zh-CN", { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false });
}

export function signed(n) {
  return n > 0 ? `+${n}` : String(n);
}

export function pointsFigures(points) {
  return h("div.g-points",
    h("div.figure.g-main", { dataset: { figure: "available" } }, h("div.n", points.available), h("div.t", "可用积分")),
    h("div.figure", { dataset: { figure: "balance" } }, h("div.n", points.balance), h("div.t", "积分余额")),
    h("div.figure", { dataset: { figure: "held" } }, h("div.n", points.held), h("div.t", "报名预留")));
}

// What an action did to the points, from the figures read before and after it (never
// assumed from the price: a waiting-list place holds nothing, a check-in settles and rewards).
export function pointsLine(before, after, verb) {
  const moved = Math.abs(after.available - before.available);
  if (!moved) return `积分没有变化：可用积分 ${after.available}。`;
  return `${verb} ${moved} 积分：可用积分 ${before.available} → ${after.available}（余额 ${after.balance}，已预留 ${after.held}）。`;
}

export function childCard(child) {
  return h("div.g-child",
    h("div.g-child-name", child.name),
    h("div.g-child-meta", [child.countyName, child.squadron?.name, `${child.grade} 年级`, label("PupilStatus", child.status)]
      .filter(Boolean).join(" · ")));
}

// A confirmation inside a card: what is about to happen to the points, then the action.
// `action` resolves to nothing (the page is shown again) or throws (the error shows here).
export function confirmIn(card, lines, confirmLabel, action) {
  card.querySelector(".g-confirm")?.remove();
  const message = h("p.error", { role: "alert", hidden: true });
  const yes = h("button.primary", { type: "button", dataset: { action: "confirm" } }, confirmLabel);
  const panel = h("div.g-confirm", lines.map((l) => h("p", l)), message,
    h("div.actions", yes, h("button", { type: "button", onclick: () => panel.remove() }, "再想想")));
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    message.hidden = true;
    try {
      await action();
    } catch (error) {
      message.textContent = errorText(error);
      message.dataset.code = error.code || "";
      message.hidden = false;
      yes.disabled = false;
    }
  });
  card.append(panel);
  yes.scrollIntoView({ block: "nearest" });
}

// Go to another guardian page and say there what just happened.
function goWith(ctx, path, lines) {
  nextFlash = lines;
  ctx.go(path);
}

export function takeFlash() {
  const lines = nextFlash;
  nextFlash = null;
  return lines;
}

export function flashBox(flash) {
  return flash ? h("div.g-flash", { role: "status" }, flash.map((line) => h("p", line))) : null;
}

export function moreList(items, shown, renderItem, emptyText) {
  if (!items.length) return h("p.empty", emptyText);
  const list = h("ul.plain", items.slice(0, shown).map(renderItem));
  if (items.length <= shown) return list;
  const more = h("button.link", { type: "button" }, `查看全部 ${items.length} 条`);
  more.addEventListener("click", () => { clear(list, items.map(renderItem)); more.remove(); });
  return h("div", list, more);
}

// --- binding a child -----------------------------------------------------------------------

function bindForm(family, ctx) {
  const relation = select("relation", [["", "请选择"], ...options("Relation")]);
  const consent = h("input", { type: "checkbox", name: "noticeVersion" });
  return form([
    field("县（区）代码", input("countyCode", {
      inputmode: "numeric", maxlength: 6, autocomplete: "off", value: family.counties[0] || "",
    }), "孩子所在县（区）的 6 位代码，学校发码时一并告知"),
    field("绑定码", input("code", { autocomplete: "off", autocapitalize: "characters", spellcheck: "false" }),
      "辅导员给的 10 位绑定码，不区分大小写，一个码只能绑定一次"),
    h("details.g-alt",
      h("summary", "没有绑定码？用孩子的身份证号码和姓名绑定"),
      field("孩子的身份证号码", input("idNumber", { autocomplete: "off" })),
      field("孩子的姓名", input("name", { autocomplete: "off" }))),
    field("与孩子的关系", relation),
    h("details.g-notice",
      h("summary", `个人信息保护告知书（${NOTICE_VERSION} 版）`),
      h("p", "为记录孩子的少先队组织生活、奖章、积分和活动，县（区）少工委及学校将处理孩子的姓名、学校班级、"
        + "身份证号码和您的手机号码。信息仅用于少先队工作，加密保存，不向合作单位提供孩子的身份信息。"),
      h("p", "您可以随时查阅、复制、更正孩子的信息，或要求删除；也可以解除绑定。")),
    h("label.g-consent", consent, h("span", "我已阅读并同意《个人信息保护告知书》")),
    h("small.field-error", { dataset: { for: "noticeVersion" } }),
  ], async (v) => {
    if (!v.relation) {
      throw new UserErrors([{ field: "relation", code: "RELATION_REQUIRED", message: "请选择您与孩子的关系" }]);
    }
    const bound = await mutate(`mutation Bind($i: BindPupilInput!) {
      bindPupil(input: $i) { pupilId pupilName ${USER_ERRORS} } }`, {
      i: {
        countyCode: v.countyCode || "",
        relation: v.relation,
        noticeVersion: v.noticeVersion ? NOTICE_VERSION : "",
        code: v.code,
        idNumber: v.code ? null : v.idNumber,
        name: v.code ? null : v.name,
      },
    }, "bindPupil");
    choose(bound.pupilId);
    goWith(ctx, "guardian", [`已绑定孩子：${bound.pupilName}`, "请核对孩子的姓名；如有不对，请联系学校。"]);
  }, "绑定");
}

function welcome(body, family, ctx) {
  clear(body,
    section("欢迎使用红领巾家长服务",
      h("p", "绑定孩子后，可以查看孩子的积分、奖章和成长档案，为孩子报名活动、兑换物品。"),
      h("p.hint", "请向孩子的辅导员索取绑定码。")),
    section("绑定孩子", bindForm(family, ctx)));
}

export async function bindPage(body, family, ctx) {
  const unbind = (child, row) => confirmIn(row,
    [`解除绑定后，您将看不到${child.name}的积分、活动和成长档案。需要时可向学校重新索取绑定码。`],
    "确认解除", async () => {
      await mutate(`mutation Unbind($p: ID!) { unbindPupil(input: {pupilId: $p}) { ok ${USER_ERRORS} } }`,
        { p: child.id }, "unbindPupil", { county: child.county });
      sessionStorage.removeItem(CHILD_KEY);
      goWith(ctx, "guardian/bind", [`已解除与${child.name}的绑定。`]);
    });
  clear(body,
    flashBox(takeFlash()),
    family.children.length ? section("已绑定的孩子", h("ul.plain", family.children.map((c) => {
      const row = h("li.g-row", childCard(c));
      row.append(h("button.link", { type: "button", onclick: () => unbind(c, row) }, "解除绑定"));
      return row;
    }))) : null,
    section(family.children.length ? "再绑定一个孩子" : "绑定孩子", bindForm(family, ctx)));
}
