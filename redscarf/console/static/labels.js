// Chinese names of the API's enum values, read from the schema itself (each value's
// description, up to its first bracket or colon): "PRE_MEMBER" → "预备队员". One request per
// session, kept in sessionStorage; a value the schema does not describe shows as itself.

import { gql } from "./api.js";

const KEY = "redscarf.labels";
let labels = null;

function short(description) {
  return description.split(/[（(：:；;，,]/)[0].trim() || description;
}

export async function loadLabels() {
  if (labels) return;
  try {
    labels = JSON.parse(sessionStorage.getItem(KEY)) || null;
  } catch {
    labels = null;
  }
  if (labels) return;
  const data = await gql(`{ __schema { types { name kind enumValues { name description } } } }`);
  labels = {};
  for (const t of data.__schema.types) {
    if (t.kind !== "ENUM" || t.name.startsWith("__")) continue;
    labels[t.name] = Object.fromEntries(
      t.enumValues.map((v) => [v.name, { short: short(v.description || v.name), long: v.description || v.name }]),
    );
  }
  sessionStorage.setItem(KEY, JSON.stringify(labels));
}

// label("PupilStatus", "MEMBER") → "少先队员"; long: the whole description.
export function label(type, value, { long = false } = {}) {
  if (value === null || value === undefined) return "—";
  const found = labels?.[type]?.[value];
  return found ? (long ? found.long : found.short) : value;
}

// [[value, label], ...] for a <select>.
export function options(type) {
  return Object.entries(labels?.[type] || {}).map(([value, l]) => [value, l.short]);
}
