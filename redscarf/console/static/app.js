// The console's shell: who is signed in, the menu their roles allow, and the page the address
// (#/county/roster, #/province/counties, …) names. Every page lives in pages/*.js and declares
// its path, title, menu and the roles that may open it; everything it shows comes from the
// public GraphQL API (api.js).

import { events, gql, session, signOut } from "./api.js";
import { loadLabels, label } from "./labels.js";
import { clear, errorBox, h, toast } from "./ui.js";
import { pages as accountPages } from "./pages/login.js";
import { pages as provincePages } from "./pages/province.js";
import { pages as peoplePages } from "./pages/county_people.js";
import { pages as workPages } from "./pages/county_work.js";
import { pages as guardianPages } from "./pages/guardian.js";

const PAGES = [...accountPages, ...provincePages, ...peoplePages, ...workPages, ...guardianPages];

export const MENUS = [
  ["province", "省、市少工委"],
  ["county", "县（区）工作"],
];

const app = document.getElementById("app");
let viewer = null; // { name, grants } of the signed-in person, read once per sign-in

// --- routing -----------------------------------------------------------------------------

function match(path) {
  const parts = path.split("/").filter(Boolean);
  for (const page of PAGES) {
    const pattern = page.path.split("/");
    if (pattern.length !== parts.length) continue;
    const params = {};
    if (pattern.every((p, i) => (p.startsWith(":") ? ((params[p.slice(1)] = decodeURIComponent(parts[i])), true) : p === parts[i]))) {
      return { page, params };
    }
  }
  return null;
}

export function go(path) {
  if (location.hash === `#/${path}`) route();
  else location.hash = `#/${path}`;
}

// --- who is signed in ----------------------------------------------------------------------

function countiesOf(grants) {
  return [...new Set(grants.map((g) => g.countyCode).filter(Boolean))];
}

// The roles that count on this page: in the chosen county for county pages, else all. A
// person's account without any role is a parent who has not bound a child yet (binding is
// what grants GUARDIAN; staff accounts come from invitations, with their role).
function rolesIn(viewer, county) {
  const grants = viewer?.grants ?? [];
  if (viewer?.kind === "USER" && !grants.length) return new Set(["GUARDIAN"]);
  return new Set(grants.filter((g) => !g.countyCode || g.countyCode === county).map((g) => g.role));
}

function allowed(page, roles) {
  return !page.roles || page.roles.some((r) => roles.has(r));
}

async function loadViewer() {
  const data = await gql(`{ me { kind name grants { role countyCode scope } } }`);
  await loadLabels();
  const counties = countiesOf(data.me.grants);
  if (!counties.includes(session.county)) session.county = counties[0] ?? null;
  return data.me;
}

export function context() {
  const grants = viewer?.grants ?? [];
  const county = session.county;
  const region = grants.find((g) => g.role === "PROVINCE_ADMIN" || g.role === "PREFECTURE_ADMIN");
  return {
    viewer,
    grants,
    county,
    region: region?.scope ?? null,
    roles: rolesIn(viewer, county),
    go,
  };
}

// --- the frame -----------------------------------------------------------------------------

function menu(ctx, current) {
  return MENUS.map(([key, title]) => {
    const items = PAGES.filter((p) => p.menu === key && allowed(p, ctx.roles));
    if (!items.length) return null;
    return h("div.menu-group", h("h3", title),
      items.map((p) => h("a", { href: `#/${p.path}`, class: p === current ? "active" : "" }, p.title)));
  });
}

function countySwitch(ctx) {
  const counties = countiesOf(ctx.grants);
  if (counties.length < 2) return null;
  return h("select.county-switch", {
    "aria-label": "切换县（区）",
    onchange: (e) => { session.county = e.target.value; route(); },
  }, counties.map((c) => h("option", { value: c, selected: c === ctx.county }, c)));
}

async function signOutHere() {
  await signOut();
  go("login");
}

function frame(ctx, page) {
  const main = h("main#page", { "aria-live": "polite" });
  const roles = [...new Set(ctx.grants.map((g) => label("Role", g.role)))].join("、");
  clear(app,
    h("header.top",
      h("a.brand", { href: "#/" }, "红领巾工作台"),
      countySwitch(ctx),
      h("span.who", viewer.name, roles ? h("small", ` · ${roles}`) : null),
      h("button.link", { onclick: signOutHere, dataset: { action: "sign-out" } }, "退出登录")),
    h("nav.side", menu(ctx, page)),
    main);
  return main;
}

// --- the route -----------------------------------------------------------------------------

async function route() {
  const path = location.hash.replace(/^#\/?/, "");
  const found = match(path);
  if (found?.page.public) {
    document.title = `${found.page.title} · 红领巾工作台`;
    const el = h("main#page.bare");
    clear(app, el);
    return found.page.render(el, found.params, { go });
  }
  if (!session.signedIn) return go("login");
  try {
    viewer ??= await loadViewer();
  } catch (error) {
    viewer = null;
    if (!session.signedIn) return undefined; // expired: the listener below shows the login page
    return clear(app, errorBox(error));
  }
  const ctx = context();
  if (!found || !allowed(found.page, ctx.roles)) {
    const home = PAGES.find((p) => p.menu && allowed(p, ctx.roles)) || PAGES.find((p) => p.home && allowed(p, ctx.roles));
    if (home && (!found || path === "")) return go(home.path);
    if (!home) return clear(app, h("main#page.bare", h("p.error", "您的账号没有可以在工作台使用的角色")));
    const main = frame(ctx, null);
    return clear(main, h("p.error", { role: "alert", dataset: { code: "FORBIDDEN" } }, "您没有权限打开这个页面"));
  }
  document.title = `${found.page.title} · 红领巾工作台`;
  const main = found.page.layout === "mobile" ? clear(app, h("main#page.mobile")).firstChild : frame(ctx, found.page);
  try {
    await found.page.render(main, found.params, ctx);
  } catch (error) {
    clear(main, errorBox(error));
  }
  return undefined;
}

events.addEventListener("session-expired", (e) => {
  viewer = null;
  toast(e.detail, "error");
  go(`login`);
});
events.addEventListener("signed-in", () => {
  viewer = null;
  sessionStorage.removeItem("redscarf.labels");
});
events.addEventListener("signed-out", () => {
  viewer = null;
});
window.addEventListener("hashchange", route);
route();
