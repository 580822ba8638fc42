// 名册导入: a county's spreadsheets (the roster, a school's one-star list, the organisation,
// the counselors) into the platform. The flow of docs/api/domains/imports.md: download the
// template, fill it, upload it (POST /uploads), start the import (importRoster), then follow it
// (rosterImport, asked every second) to its end. The whole file is applied or nothing is: with
// any wrong row the outcome lists the errors and offers the file back with an error column.

import { ApiError, download, gql, mutate, upload } from "../api.js";
import { act, clear, errorText, field, figure, fmt, h, section, table } from "../ui.js";

// Each kind, its template, and the roles that may import it (authz/policy.csv: pupils need
// pupil write, one-star lists award:star1 write, units unit write, counselors counselor write).
const KINDS = [
  { kind: "PUPILS", name: "队员名册", template: "pupils",
    roles: ["COUNTY_ADMIN", "BRIGADE_COUNSELOR", "SQUADRON_COUNSELOR"],
    hint: "学校、中队、姓名、性别、出生日期、身份证号码、状态、入队日期。队员按身份证号码（没有时按中队、姓名和出生日期）对应，已有的只更新有变化的项。" },
  { kind: "ONE_STAR", name: "一星章名单", template: "one_star",
    roles: ["COUNTY_ADMIN", "BRIGADE_COUNSELOR", "SQUADRON_COUNSELOR"],
    hint: "学校、中队、姓名、学年、事迹。逐人颁发一星章并发放积分；同一名单重复导入不会重复颁发。" },
  { kind: "UNITS", name: "组织架构", template: "units",
    roles: ["COUNTY_ADMIN", "TOWNSHIP_ADMIN", "BRIGADE_COUNSELOR"],
    hint: "乡镇（街道）、社区、学校、中队、小队。单位按上级和名称对应，已有的不会重复设立。" },
  { kind: "COUNSELORS", name: "辅导员名册", template: "counselors",
    roles: ["COUNTY_ADMIN", "TOWNSHIP_ADMIN", "BRIGADE_COUNSELOR"],
    hint: "辅导员的姓名、类别和任职单位。按单位、类别和姓名对应。" },
];
const ROLES = [...new Set(KINDS.flatMap((k) => k.roles))];
const POLL_MS = 1000;
const FINAL = new Set(["DONE", "INVALID", "FAILED"]);

const START = `mutation ImportRoster($input: ImportRosterInput!) {
  importRoster(input: $input) {
    rosterImport { id kind state filename }
    userErrors { field code message }
  }
}`;

const PROGRESS = `query ImportProgress($id: ID!) {
  rosterImport(id: $id) {
    id kind state filename phase progress total
    rows created updated unchanged errorCount
    errors { sheet row column code message }
    notes reportUrl createdAt finishedAt
  }
}`;

const STATE_TEXT = {
  PENDING: "排队等待处理…",
  RUNNING: "正在处理…",
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function kindPicker(kinds) {
  return h("fieldset.kind-picker",
    h("legend", "第一步：选择名册种类"),
    kinds.map((k, i) => h("label.kind-option",
      h("input", { type: "radio", name: "kind", value: k.kind, checked: i === 0, "aria-label": k.name }),
      h("span.kind-name", k.name),
      h("small.hint", k.hint))));
}

// The progress bar and the phase while the import runs.
function progressView(imp) {
  const bar = h("progress", { max: imp.total || 1, "aria-label": "导入进度" });
  if (imp.total) bar.value = imp.progress;
  else if (FINAL.has(imp.state)) bar.value = 1;
  else bar.removeAttribute("value"); // indeterminate until the rows are counted
  const detail = imp.phase && imp.total ? `${imp.phase}：${fmt.number(imp.progress)} / ${fmt.number(imp.total)} 行` : imp.phase || "";
  // Once it has ended the outcome below says how; the bar only says how far it got.
  const state = FINAL.has(imp.state) ? "处理完毕" : STATE_TEXT[imp.state] || imp.state;
  return h("div.import-progress", { dataset: { state: imp.state } }, bar,
    h("p.hint", state, detail ? `（${detail}）` : ""));
}

function counts(imp) {
  const shown = (n, t) => figure(t, fmt.number(n ?? 0));
  return h("div.figures",
    shown(imp.rows, "数据行"),
    shown(imp.created, imp.state === "DONE" ? "新登记" : "将新登记"),
    shown(imp.updated, imp.state === "DONE" ? "已更新" : "将更新"),
    shown(imp.unchanged, "与平台一致"),
    imp.errorCount ? shown(imp.errorCount, "有错误的行") : null);
}

function outcome(imp) {
  const notes = imp.notes.length ? h("ul.notes", imp.notes.map((n) => h("li", n))) : null;
  if (imp.state === "DONE") {
    return h("div.import-outcome.done", { dataset: { state: imp.state } },
      h("p.ok", `导入完成：新登记 ${fmt.number(imp.created)}，更新 ${fmt.number(imp.updated)}，未改动 ${fmt.number(imp.unchanged)}（共 ${fmt.number(imp.rows)} 行）。`),
      counts(imp), notes,
      imp.kind === "PUPILS" || imp.kind === "ONE_STAR"
        ? h("p", h("a", { href: "#/county/roster" }, "到队员名册查看")) : null,
      imp.kind === "UNITS" ? h("p", h("a", { href: "#/county/org" }, "到组织架构查看")) : null);
  }
  if (imp.state === "FAILED") {
    return h("div.import-outcome.failed", { dataset: { state: imp.state } },
      h("p.error", { role: "alert" }, "导入任务失败（已自动重试），整份文件都没有导入。请稍后重新上传；多次失败请联系管理员。"),
      notes);
  }
  const report = imp.reportUrl ? h("button.primary", {
    type: "button", dataset: { action: "report" },
    onclick: () => act(report, () => download(imp.reportUrl, `错误报告-${imp.filename.replace(/\.xlsx$/i, "")}.xlsx`),
      "错误报告已下载"),
  }, "下载错误报告") : null;
  const shownAll = imp.errors.length >= (imp.errorCount ?? 0);
  return h("div.import-outcome.invalid", { dataset: { state: imp.state } },
    h("p.error", { role: "alert" },
      `发现 ${fmt.number(imp.errorCount)} 行有错误，整份文件都没有导入（一行也没有写入）。`,
      "请下载错误报告，按最后一列“错误说明”改正后，重新上传整份文件。"),
    counts(imp),
    h("div.toolbar", report),
    table([
      ["工作表", (e) => e.sheet || "—"],
      ["行", (e) => (e.row === null ? "—" : String(e.row))],
      ["列", (e) => e.column || "—"],
      ["错误说明", (e) => e.message],
    ], imp.errors, "没有逐行的错误"),
    shownAll ? null : h("p.hint", `这里只列出前 ${imp.errors.length} 条，错误报告中有全部 ${fmt.number(imp.errorCount)} 行。`),
    notes);
}

async function render(el, params, ctx) {
  const kinds = KINDS.filter((k) => k.roles.some((r) => ctx.roles.has(r)));
  const picker = kindPicker(kinds);
  const chosen = () => KINDS.find((k) => k.kind === picker.querySelector("input[name=kind]:checked")?.value);
  const file = h("input", { type: "file", name: "file", accept: ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" });
  const result = h("div.import-result");
  const message = h("p.error", { role: "alert", hidden: true });

  const templateButton = h("button", {
    type: "button", dataset: { action: "template" },
    onclick: () => act(templateButton, () => {
      const k = chosen();
      return download(`/templates/${k.template}.xlsx`, `${k.name}模板.xlsx`);
    }, "模板已下载"),
  }, "下载模板");

  // Ask for the import's state every second until it ends (or the person leaves the page).
  // A dropped connection is retried a few times: the import goes on on the server meanwhile.
  async function follow(id) {
    let failures = 0;
    for (;;) {
      let imp;
      try {
        imp = (await gql(PROGRESS, { id })).rosterImport;
        failures = 0;
      } catch (error) {
        if (error.code !== "NETWORK" || ++failures > 5) throw error;
        await sleep(POLL_MS * 2);
        continue;
      }
      if (!el.isConnected) return;
      if (!imp) throw new ApiError("IMPORT_NOT_FOUND", "");
      clear(result, section(`导入：${imp.filename}`, progressView(imp), FINAL.has(imp.state) ? outcome(imp) : null));
      if (FINAL.has(imp.state)) return;
      await sleep(POLL_MS);
    }
  }

  const start = h("button.primary", { type: "submit" }, "上传并导入");
  const f = h("form.import-form", { novalidate: true },
    picker,
    h("div.step",
      h("h3", "第二步：按模板填好名册"),
      h("p", templateButton, " ", h("span.hint", "模板第一行是表头（鼠标移到表头上可看说明），第二行是示例，导入前请删除示例行。")),
      h("p.hint", "可以直接使用学校原有的表格：标题行、合并单元格、全角字符、以文本保存的数字都能识别。")),
    h("div.step",
      h("h3", "第三步：选择文件并导入"),
      field("选择文件", file, "Excel 工作簿（.xlsx），不超过 20 MB；旧版 .xls 或 CSV 请先另存为 .xlsx"),
      h("p.all-or-nothing", "整份文件要么全部导入，要么全部不导入：只要有一行有错，就一行也不会写入；",
        "改正后重新上传整份文件即可。同一份文件重复导入不会重复登记。"),
      h("div.actions", start),
      message));

  f.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.hidden = true;
    const picked = file.files[0];
    if (!picked) {
      message.textContent = "请先选择要导入的 Excel 文件";
      message.hidden = false;
      return;
    }
    start.disabled = true;
    try {
      clear(result, section(`导入：${picked.name}`, h("p.loading", "正在上传…")));
      const uploadId = await upload(picked);
      const started = await mutate(START, { input: { uploadId, kind: chosen().kind } }, "importRoster");
      file.value = ""; // an upload is imported once: a second run needs the file chosen again
      await follow(started.rosterImport.id);
    } catch (error) {
      clear(result);
      message.textContent = errorText(error);
      message.dataset.code = error.code || "";
      message.hidden = false;
    } finally {
      start.disabled = false;
    }
  });

  clear(el, h("h1", "名册导入"), section("导入 Excel 名册", f), result);
}

export const pages = [
  { path: "county/import", title: "名册导入", menu: "county", roles: ROLES, render },
];
