// Charts drawn as inline SVG (no library, nothing fetched): bars for counts by county,
// township or level, and a ring for a share. Each chart also carries its figures as text
// (a <title> per bar and a table for screen readers), so nothing is only a picture.

const NS = "http://www.w3.org/2000/svg";
const COLOURS = ["#c8102e", "#e9a23b", "#2f6f9f", "#4c9a5b", "#8a5fb0", "#d06a3b", "#5b7083"];

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function figure(title, chart, rows, format) {
  const fig = document.createElement("figure");
  fig.className = "chart";
  const caption = document.createElement("figcaption");
  caption.textContent = title;
  const data = document.createElement("table");
  data.className = "sr-only";
  for (const [name, value] of rows) {
    const tr = data.insertRow();
    tr.insertCell().textContent = name;
    tr.insertCell().textContent = format(value);
  }
  fig.append(caption, chart, data);
  return fig;
}

const plain = (v) => Number(v).toLocaleString("zh-CN");

// Horizontal bars: items [{label, value}], longest first if `sorted`.
// series: several values per item ([{label, values: [a, b]}]) with `legend` names.
// With `limit` (sorted charts), a long list keeps its first and last limit/2 rows and says
// how many it left out between them: a province of 100 counties sees who leads and who lags.
export function bars(title, items, { format = plain, legend = null, sorted = false, max = null, limit = null } = {}) {
  let rows = sorted ? [...items].sort((a, b) => total(b) - total(a)) : items;
  if (limit && rows.length > limit) {
    const half = Math.floor(limit / 2);
    rows = [...rows.slice(0, half), { label: `…另 ${rows.length - 2 * half} 项`, value: 0, gap: true }, ...rows.slice(-half)];
  }
  const top = max ?? Math.max(1, ...rows.map(total));
  // Drawn at about the size a card shows it (a third to a half of the page), so that the
  // text stays readable after the SVG is scaled to the card.
  const line = 28;
  const labelWidth = 110;
  const width = 460;
  const room = width - labelWidth - 80;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${rows.length * line + (legend ? 26 : 4)}`, role: "img", "aria-label": title });
  rows.forEach((item, i) => {
    const y = i * line + 4;
    chart.append(svg("text", { x: labelWidth - 6, y: y + 16, "text-anchor": "end", class: "axis" }, clip(item.label, 7)));
    if (item.gap) return;
    let x = labelWidth;
    (item.values ?? [item.value]).forEach((v, k) => {
      const w = (Math.max(0, v) / top) * room;
      chart.append(svg("rect", { x, y, width: Math.max(w, v > 0 ? 1 : 0), height: line - 8, fill: COLOURS[k % COLOURS.length] },
        svg("title", {}, `${item.label}${legend ? ` · ${legend[k]}` : ""}：${format(v)}`)));
      x += w;
    });
    chart.append(svg("text", { x: x + 6, y: y + 16, class: "value" }, format(total(item))));
  });
  if (legend) {
    const y = rows.length * line + 8;
    legend.forEach((name, k) => {
      chart.append(svg("rect", { x: labelWidth + k * 110, y, width: 12, height: 12, fill: COLOURS[k % COLOURS.length] }),
        svg("text", { x: labelWidth + k * 110 + 16, y: y + 11, class: "axis" }, name));
    });
  }
  return figure(title, chart, rows.filter((r) => !r.gap).map((r) => [r.label, total(r)]), format);
}

function total(item) {
  return item.values ? item.values.reduce((a, b) => a + b, 0) : item.value;
}

function clip(text, n) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

// A ring showing parts of a whole: parts [{label, value}].
export function ring(title, parts, { format = plain } = {}) {
  const sum = parts.reduce((a, p) => a + p.value, 0);
  const chart = svg("svg", { viewBox: "0 0 320 140", role: "img", "aria-label": title });
  const r = 50;
  const c = 2 * Math.PI * r;
  let offset = 0;
  chart.append(svg("circle", { cx: 70, cy: 70, r, fill: "none", stroke: "#eee", "stroke-width": 22 }));
  parts.forEach((p, k) => {
    const share = sum ? p.value / sum : 0;
    chart.append(svg("circle", {
      cx: 70, cy: 70, r, fill: "none", stroke: COLOURS[k % COLOURS.length], "stroke-width": 22,
      "stroke-dasharray": `${share * c} ${c}`, "stroke-dashoffset": -offset * c, transform: "rotate(-90 70 70)",
    }, svg("title", {}, `${p.label}：${format(p.value)}`)));
    offset += share;
    chart.append(svg("rect", { x: 140, y: 20 + k * 22, width: 12, height: 12, fill: COLOURS[k % COLOURS.length] }),
      svg("text", { x: 158, y: 31 + k * 22, class: "axis" }, `${p.label} ${format(p.value)}${sum ? `（${((p.value / sum) * 100).toFixed(1)}%）` : ""}`));
  });
  return figure(title, chart, parts.map((p) => [p.label, p.value]), format);
}
