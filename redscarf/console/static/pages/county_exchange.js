// 兑换: the points exchange. Partners of the county (社会单位: a bookshop, a museum) give items
// that families redeem with a child's points; the county admin registers the partners, puts
// their items on sale (stock, points price, limit per pupil, period) and follows every
// redemption. Every other staff role sees what is on offer, to tell families.

import { gql, mutate } from "../api.js";
import { options } from "../labels.js";
import { act, clear, field, figure, fmt, form, h, input, loading, pager, section, select, table, toast } from "../ui.js";
import { has, required, STAFF, stateBadge, when, withFields } from "./county_work_shared.js";

const ITEM = `id name description partnerName price stock perPupil validFrom validUntil pickupDays onSale
  counts { issued verified expired }`;

const PARTNERS = `{ partners { id name contact staffScope createdAt items { id onSale } } }`;

const ITEMS = `query Items($partner: ID, $onSale: Boolean) {
  exchangeItems(partnerId: $partner, onSale: $onSale) { ${ITEM} }
}`;

const REDEMPTIONS = `query Redemptions($first: Int, $after: String, $state: RedemptionState) {
  redemptions(first: $first, after: $after, state: $state) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id itemName price state codeHint createdAt expiresAt verifiedAt pupil { id name squadron { name } } } }
  }
}`;

const ITEM_FIELDS = {
  NAME_REQUIRED: "name", INVALID_PRICE: "price", INVALID_STOCK: "stock", INVALID_LIMIT: "perPupil",
  INVALID_PICKUP_DAYS: "pickupDays", INVALID_VALIDITY: "validUntil", PARTNER_NOT_FOUND: "partnerId",
};

const LOW_STOCK = 10;

async function exchange(el, params, ctx) {
  const admin = has(ctx, "COUNTY_ADMIN");
  await loading(el, async () => {
    const partners = admin ? (await gql(PARTNERS)).partners : [];
    const items = (await gql(ITEMS, {})).exchangeItems;
    const again = () => exchange(el, params, ctx);
    const counts = items.reduce((sum, i) => ({
      issued: sum.issued + (i.counts?.issued ?? 0), verified: sum.verified + (i.counts?.verified ?? 0),
    }), { issued: 0, verified: 0 });
    return h("div",
      h("div.toolbar", h("h1", "积分兑换")),
      h("div.figures",
        admin ? figure("合作单位", partners.length, "partners") : null,
        figure("上架物品", items.filter((i) => i.onSale).length, "onSale"),
        admin ? figure("待领取", fmt.number(counts.issued), "issued") : null,
        admin ? figure("已领取", fmt.number(counts.verified), "verified") : null),
      admin ? partnerSection(partners, again) : null,
      itemSection(items, partners, admin, again),
      admin ? redemptionSection() : null);
  });
}

// --- partners --------------------------------------------------------------------------------

function partnerSection(partners, again) {
  const editing = h("div");
  const create = form([
    h("div.pair",
      field("单位名称", input("name", { maxlength: 100, placeholder: "如：县新华书店" })),
      field("联系方式", input("contact", { maxlength: 100, placeholder: "电话或联系人" }))),
  ], async (v) => {
    required(v, { name: "单位名称" });
    const p = await withFields({ NAME_REQUIRED: "name" }, () => mutate(`mutation NewPartner($input: CreatePartnerInput!) {
      createPartner(input: $input) { partner { id name staffScope } userErrors { field code message } } }`,
    { input: { name: v.name, contact: v.contact } }, "createPartner"));
    toast(`已登记合作单位“${p.partner.name}”：可以为其上架物品，并邀请其人员（角色“社会单位”，范围 ${p.partner.staffScope}）`);
    again();
  }, "登记合作单位");
  return section("合作单位",
    h("p.hint", "合作单位的人员凭邀请登录后，可自行上架本单位的物品，并在柜台核销兑换码（看不到队员信息）。"),
    table([
      ["单位", (p) => h("strong", p.name)],
      ["联系方式", (p) => p.contact || "—"],
      ["物品", (p) => `${p.items.filter((i) => i.onSale).length} 件上架 / 共 ${p.items.length} 件`],
      ["邀请人员时的范围", (p) => h("code", p.staffScope || "—")],
      ["登记时间", (p) => fmt.date(p.createdAt)],
      ["", (p) => h("button", { type: "button", "aria-label": `修改 ${p.name}`, onclick: () => editPartner(editing, p, again) }, "修改")],
    ], partners, "还没有合作单位：在下方登记第一家"),
    editing,
    h("details.signup-group", h("summary", "登记合作单位"), create));
}

function editPartner(box, p, again) {
  clear(box, h("div.item-edit", h("h3", `修改 ${p.name}`), form([
    h("div.pair",
      field("单位名称", input("name", { value: p.name, maxlength: 100 })),
      field("联系方式", input("contact", { value: p.contact || "", maxlength: 100 }))),
  ], async (v) => {
    await withFields({ NAME_REQUIRED: "name" }, () => mutate(`mutation EditPartner($input: UpdatePartnerInput!) {
      updatePartner(input: $input) { partner { id } userErrors { field code message } } }`,
    { input: { id: p.id, name: v.name, contact: v.contact ?? "" } }, "updatePartner"));
    toast("合作单位已保存");
    again();
  }, "保存"), h("button.link", { type: "button", onclick: () => clear(box) }, "取消")));
}

// --- items -----------------------------------------------------------------------------------

function itemSection(items, partners, admin, again) {
  const editing = h("div");
  const body = h("div");
  let partner = "";
  let onSale = "";
  function show() {
    const rows = items.filter((i) => (!partner || i.partnerName === partner) && (!onSale || String(i.onSale) === onSale));
    clear(body, table([
      ["物品", (i) => h("div", h("strong", i.name), i.description ? h("div.hint", i.description) : null)],
      ["合作单位", (i) => i.partnerName],
      ["所需积分", (i) => fmt.number(i.price)],
      ["库存", (i) => h(i.stock < LOW_STOCK ? "span.stock-low" : "span", fmt.number(i.stock))],
      ["每人限兑", (i) => `${i.perPupil} 件`],
      ["兑换期", (i) => `${fmt.date(i.validFrom)} 至 ${fmt.date(i.validUntil)}`],
      ["领取期限", (i) => `${i.pickupDays} 天`],
      ["状态", (i) => h(`span.badge${i.onSale ? ".ok" : ""}`, { dataset: { state: i.onSale ? "ON_SALE" : "OFF" } }, i.onSale ? "上架中" : "已下架")],
      admin ? ["兑换情况", (i) => (i.counts ? `待领 ${i.counts.issued} · 已领 ${i.counts.verified} · 过期 ${i.counts.expired}` : "—")] : null,
      admin ? ["", (i) => h("div.actions",
        h("button", { type: "button", "aria-label": `修改 ${i.name}`, onclick: () => editItem(editing, i, again) }, "修改"),
        toggleButton(i, again))] : null,
    ].filter(Boolean), rows, items.length ? "没有符合条件的物品" : "还没有可兑换的物品"));
  }
  const partnerNames = [...new Set(items.map((i) => i.partnerName))];
  const filters = h("div.toolbar",
    select("partnerFilter", [["", "全部合作单位"], ...partnerNames.map((n) => [n, n])], {
      "aria-label": "按合作单位筛选", onchange: (e) => { partner = e.target.value; show(); } }),
    select("saleFilter", [["", "全部物品"], ["true", "上架中"], ["false", "已下架"]], {
      "aria-label": "按上架状态筛选", onchange: (e) => { onSale = e.target.value; show(); } }));
  show();
  return section("兑换物品",
    filters, editing, body,
    admin && partners.length ? h("details.signup-group", h("summary", "上架新物品"), newItemForm(partners, again)) : null,
    admin && !partners.length ? h("p.hint", "先登记合作单位，再为其上架物品。") : null);
}

function toggleButton(item, again) {
  const b = h("button", { type: "button", "aria-label": `${item.onSale ? "下架" : "上架"} ${item.name}` }, item.onSale ? "下架" : "上架");
  b.addEventListener("click", () => act(b, async () => {
    await updateItem({ id: item.id, onSale: !item.onSale });
    again();
  }, item.onSale ? `“${item.name}”已下架` : `“${item.name}”已上架`));
  return b;
}

function updateItem(values) {
  return withFields(ITEM_FIELDS, () => mutate(`mutation EditItem($input: UpdateExchangeItemInput!) {
    updateExchangeItem(input: $input) { item { ${ITEM} } userErrors { field code message } } }`,
  { input: values }, "updateExchangeItem"));
}

function editItem(box, i, again) {
  clear(box, h("div.item-edit", h("h3", `修改 ${i.name}`), form([
    h("div.pair",
      field("物品名称", input("name", { value: i.name, maxlength: 100 })),
      field("所需积分", input("price", { type: "number", min: 1, value: i.price }), "只对今后的兑换生效")),
    field("说明", input("description", { value: i.description || "", maxlength: 500 })),
    h("div.pair",
      field("补充库存", input("addStock", { type: "number", value: 0 }), `现有 ${i.stock}；负数为减少`),
      field("每人限兑", input("perPupil", { type: "number", min: 1, value: i.perPupil }))),
    field("兑换截止", input("validUntil", { type: "datetime-local", value: when.input(new Date(i.validUntil)) })),
    h("label.check", input("onSale", { type: "checkbox", checked: i.onSale }), "上架"),
  ], async (v) => {
    await updateItem({
      id: i.id, name: v.name, description: v.description ?? "", price: v.price, perPupil: v.perPupil,
      validUntil: when.iso(v.validUntil), addStock: v.addStock ?? 0, onSale: v.onSale,
    });
    toast(`“${v.name ?? i.name}”已保存`);
    again();
  }, "保存"), h("button.link", { type: "button", onclick: () => clear(box) }, "取消")));
}

function newItemForm(partners, again) {
  const now = new Date();
  return form([
    field("合作单位", select("partnerId", partners.map((p) => [p.id, p.name]))),
    field("物品名称", input("name", { maxlength: 100, placeholder: "如：亲子阅读券" })),
    field("说明", input("description", { maxlength: 500, placeholder: "使用范围、注意事项" })),
    h("div.pair",
      field("所需积分", input("price", { type: "number", min: 1 })),
      field("库存", input("stock", { type: "number", min: 0 }))),
    h("div.pair",
      field("每人限兑", input("perPupil", { type: "number", min: 1, value: 1 })),
      field("领取期限（天）", input("pickupDays", { type: "number", min: 1, max: 365, value: 30 }), "兑换后逾期未领取的，积分和库存退回")),
    h("div.pair",
      field("兑换开始", input("validFrom", { type: "datetime-local", value: when.input(now) })),
      field("兑换截止", input("validUntil", { type: "datetime-local", value: when.input(when.at(when.addDays(now, 90), 23, 59)) }))),
  ], async (v) => {
    required(v, { partnerId: "合作单位", name: "物品名称", price: "所需积分", stock: "库存",
      validFrom: "兑换开始时间", validUntil: "兑换截止时间" });
    const p = await withFields(ITEM_FIELDS, () => mutate(`mutation NewItem($input: CreateExchangeItemInput!) {
      createExchangeItem(input: $input) { item { id name } userErrors { field code message } } }`,
    { input: {
      partnerId: v.partnerId, name: v.name, description: v.description, price: v.price, stock: v.stock,
      perPupil: v.perPupil ?? 1, pickupDays: v.pickupDays ?? 30,
      validFrom: when.iso(v.validFrom), validUntil: when.iso(v.validUntil),
    } }, "createExchangeItem"));
    toast(`“${p.item.name}”已上架`);
    again();
  }, "上架");
}

// --- redemptions -----------------------------------------------------------------------------

function redemptionSection() {
  const body = h("div");
  let state = null;
  const show = () => clear(body, pager(
    async (after) => (await gql(REDEMPTIONS, { first: 20, after, state })).redemptions,
    (rows) => table([
      ["兑换时间", (r) => fmt.time(r.createdAt)],
      ["物品", (r) => r.itemName],
      ["积分", (r) => fmt.number(r.price)],
      ["队员", (r) => (r.pupil ? h("a", { href: `#/county/pupils/${encodeURIComponent(r.pupil.id)}` }, r.pupil.name) : "—")],
      ["中队", (r) => r.pupil?.squadron?.name ?? "—"],
      ["兑换码尾号", (r) => (r.codeHint ? h("code", r.codeHint) : "—")],
      ["状态", (r) => stateBadge("RedemptionState", r.state, { VERIFIED: "ok", ISSUED: "warn", EXPIRED: "bad" })],
      ["领取截止", (r) => fmt.time(r.expiresAt)],
      ["领取时间", (r) => fmt.time(r.verifiedAt)],
    ], rows, state ? "没有这一状态的兑换" : "还没有兑换记录")));
  show();
  return section("兑换记录",
    h("div.toolbar", select("redemptionState", [["", "全部状态"], ...options("RedemptionState")], {
      "aria-label": "按兑换状态筛选", onchange: (e) => { state = e.target.value || null; show(); } })),
    h("p.hint", "兑换码只有家长看得到；合作单位核销时只看到物品和兑换码尾号，看不到队员。"),
    body);
}

export const pages = [
  { path: "county/exchange", title: "积分兑换", menu: "county", roles: STAFF, render: exchange },
];
