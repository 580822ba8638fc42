// Small DOM helpers: the console has no framework, so that a county's IT office can read it
// top to bottom. `h` builds elements; the rest are the few widgets every page uses.

import { ApiError } from "./api.js";

// h("button.primary", {onclick}, "保存") → <button class="primary">保存</button>
export function h(spec, attrs, ...children) {
  if (attrs === null || typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs)) {
    children.unshift(attrs);
    attrs = {};
  }
  const [tag, ...classes] = spec.split(".");
  const [name, id] = tag.split("#");
  const el = document.createElement(name || "div");
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(" ");
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k in el && k !== "list" && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// --- messages ------------------------------------------------------------------------------

export function toast(message, kind = "ok") {
  let box = document.getElementById("toasts");
  if (!box) document.body.append((box = h("div#toasts", { role: "status", "aria-live": "polite" })));
  const t = h(`div.toast.${kind}`, message);
  box.append(t);
  setTimeout(() => t.remove(), kind === "error" ? 8000 : 4000);
}

// An error as the person reads it (ApiError carries the API's Chinese message).
export function errorText(error) {
  if (error instanceof ApiError) return error.message;
  console.error(error);
  return "出现意外错误，请刷新页面后重试";
}

export function errorBox(error) {
  return h("p.error", { role: "alert", dataset: { code: error?.code || "" } }, errorText(error));
}

// Run an action from a button: disable it meanwhile, show the error (and return undefined).
export async function act(button, action, success) {
  if (button) button.disabled = true;
  try {
    const result = await action();
    if (success) toast(success);
    return result;
  } catch (error) {
    toast(errorText(error), "error");
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// --- forms ---------------------------------------------------------------------------------

// field("姓名", input) → a labelled row; errors from userErrors land next to their field.
export function field(label, input, hint) {
  return h("label.field", h("span.label", label), input, hint ? h("small.hint", hint) : null,
    h("small.field-error", { dataset: { for: input.name || "" } }));
}

export function input(name, attrs = {}) {
  return h("input", { name, ...attrs });
}

export function select(name, options, attrs = {}) {
  return h("select", { name, ...attrs },
    options.map(([value, label]) => h("option", { value }, label)));
}

export function values(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === "checkbox") out[el.name] = el.checked;
    else if (el.type === "number") out[el.name] = el.value === "" ? null : Number(el.value);
    else if (el.multiple) out[el.name] = [...el.selectedOptions].map((o) => o.value);
    else out[el.name] = el.value.trim() === "" ? null : el.value.trim();
  }
  return out;
}

// A form whose submit runs `onsubmit(values)`; user errors are shown beside their fields.
export function form(children, onsubmit, submitLabel = "提交") {
  const button = h("button.primary", { type: "submit" }, submitLabel);
  const message = h("p.error", { role: "alert", hidden: true });
  const f = h("form", { novalidate: true }, children, h("div.actions", button), message);
  f.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.hidden = true;
    for (const e of f.querySelectorAll(".field-error")) e.textContent = "";
    button.disabled = true;
    try {
      await onsubmit(values(f), f);
    } catch (error) {
      const at = error.errors?.filter((e) => e.field && f.querySelector(`.field-error[data-for="${e.field}"]`));
      for (const e of at || []) f.querySelector(`.field-error[data-for="${e.field}"]`).textContent = e.message;
      message.textContent = errorText(error);
      message.dataset.code = error.code || "";
      message.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  return f;
}

// --- tables and paging ---------------------------------------------------------------------

// columns: [[header, row => cell], ...]
export function table(columns, rows, empty = "暂无数据") {
  if (!rows.length) return h("p.empty", empty);
  return h("div.table-wrap", h("table",
    h("thead", h("tr", columns.map(([title]) => h("th", title)))),
    h("tbody", rows.map((row) => h("tr", columns.map(([, cell]) => h("td", cell(row))))))));
}

// A Relay connection page by page: `load(after)` resolves to {edges, pageInfo, totalCount}.
export function pager(load, render) {
  const box = h("div.paged");
  const cursors = [null];
  let page = 0;
  async function show() {
    clear(box, h("p.loading", "加载中…"));
    try {
      const conn = await load(cursors[page]);
      cursors[page + 1] = conn.pageInfo.endCursor;
      const prev = h("button", { disabled: page === 0, onclick: () => { page--; show(); } }, "上一页");
      const next = h("button", { disabled: !conn.pageInfo.hasNextPage, onclick: () => { page++; show(); } }, "下一页");
      const total = conn.totalCount ?? null;
      clear(box, render(conn.edges.map((e) => e.node)),
        h("nav.pages", prev, h("span", `第 ${page + 1} 页${total === null ? "" : ` · 共 ${total} 条`}`), next));
    } catch (error) {
      clear(box, errorBox(error));
    }
  }
  show();
  return box;
}

// --- formatting ----------------------------------------------------------------------------

export const fmt = {
  date: (v) => (v ? String(v).slice(0, 10) : "—"),
  time: (v) => (v ? new Date(v).toLocaleString("zh-CN", { hour12: false }) : "—"),
  number: (v) => (v === null || v === undefined ? "—" : Number(v).toLocaleString("zh-CN")),
  percent: (v) => (v === null || v === undefined ? "—" : `${Number(v).toFixed(1)}%`),
};

// A headline number with its caption (inside a `.figures` row); `key` names it for tests.
export function figure(title, value, key = null) {
  return h("div.figure", { dataset: { key: key || "" } }, h("div.n", value), h("div.t", title));
}

export function section(title, ...children) {
  return h("section.card", h("h2", title), ...children);
}

// A page's body while it loads, then what `build` made of it (or the error).
export async function loading(el, build) {
  clear(el, h("p.loading", "加载中…"));
  try {
    clear(el, await build());
  } catch (error) {
    clear(el, errorBox(error));
  }
}
