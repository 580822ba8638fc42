// The console's only way to the service: the public GraphQL API at /graphql, and the file
// endpoints beside it (uploads, reports, exports), with the same credentials.
//
// A county frontend can copy this file: it keeps the access token and the refresh token of one
// signed-in person in sessionStorage (gone when the tab closes), refreshes the access token a
// little before it runs out or when the API says UNAUTHENTICATED, and turns every error into an
// ApiError with the API's stable code and a Chinese message.

import { messageFor } from "./messages.js";

const STORE = window.sessionStorage;
const KEY = "redscarf.session";
const REFRESH_MARGIN_MS = 60_000; // refresh a minute before the access token expires

export class ApiError extends Error {
  constructor(code, message, field = null) {
    super(messageFor(code, message));
    this.code = code;
    this.field = field;
  }
}

// Several mutations' userErrors at once (a form shows each next to its field).
export class UserErrors extends ApiError {
  constructor(errors) {
    super(errors[0].code, errors.map((e) => e.message).join("；"), errors[0].field);
    this.errors = errors;
  }
}

// --- the session -------------------------------------------------------------------------

export const session = {
  read() {
    try {
      return JSON.parse(STORE.getItem(KEY)) || null;
    } catch {
      return null;
    }
  },
  write(value) {
    STORE.setItem(KEY, JSON.stringify(value));
  },
  start(tokens) {
    this.write({
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: Date.now() + tokens.expiresIn * 1000,
      county: this.read()?.county ?? null,
    });
  },
  clear() {
    STORE.removeItem(KEY);
  },
  get signedIn() {
    return Boolean(this.read()?.accessToken);
  },
  // The county a request is routed to (X-County), for whoever reaches several.
  get county() {
    return this.read()?.county ?? null;
  },
  set county(code) {
    const s = this.read();
    if (s) this.write({ ...s, county: code });
  },
};

// The app listens: the session ended (expired, revoked or signed out elsewhere).
export const events = new EventTarget();

function expired(message) {
  session.clear();
  events.dispatchEvent(new CustomEvent("session-expired", { detail: message }));
}

// --- requests ----------------------------------------------------------------------------

// The session's credentials and county, then `extra` (a null value leaves that header out).
function headers(extra = {}) {
  const s = session.read();
  const h = {};
  if (s?.accessToken) h.Authorization = `Bearer ${s.accessToken}`;
  if (s?.county) h["X-County"] = s.county;
  Object.assign(h, extra);
  for (const [k, v] of Object.entries(h)) if (v === null) delete h[k];
  return h;
}

async function post(body, extraHeaders) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: headers({ "Content-Type": "application/json", Accept: "application/json", ...extraHeaders }),
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError("NETWORK", "网络连接失败，请检查网络后重试");
  }
  let answer;
  try {
    answer = await response.json();
  } catch {
    throw new ApiError(response.status >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST", "");
  }
  return answer;
}

let refreshing = null; // one refresh at a time, whoever asks

async function refresh() {
  const s = session.read();
  if (!s?.refreshToken) return false;
  refreshing ??= (async () => {
    try {
      const answer = await post(
        {
          query: `mutation Refresh($t: String!) { refreshSession(input: {refreshToken: $t}) {
            tokens { accessToken refreshToken expiresIn } userErrors { code message } } }`,
          variables: { t: s.refreshToken },
        },
        { Authorization: null, "X-County": null },
      );
      const tokens = answer.data?.refreshSession?.tokens;
      if (!tokens) return false;
      session.start(tokens);
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function firstError(answer) {
  const e = answer.errors?.[0];
  return e ? new ApiError(e.extensions?.code || "INTERNAL_ERROR", e.message) : null;
}

// A query or mutation; resolves to `data`, throws ApiError on the first error.
export async function gql(query, variables = {}, { county } = {}) {
  const extra = county ? { "X-County": county } : {};
  const s = session.read();
  if (s?.accessToken && s.expiresAt - Date.now() < REFRESH_MARGIN_MS) await refresh();
  let answer = await post({ query, variables }, extra);
  let error = firstError(answer);
  if (error?.code === "UNAUTHENTICATED" && session.signedIn) {
    if (await refresh()) {
      answer = await post({ query, variables }, extra);
      error = firstError(answer);
    }
    if (error?.code === "UNAUTHENTICATED") {
      expired("登录已过期，请重新登录");
      throw error;
    }
  }
  if (error) throw error;
  return answer.data;
}

// A mutation with a payload: resolves to the payload, throws UserErrors when it has some.
export async function mutate(query, variables, name, options) {
  const data = await gql(query, variables, options);
  const payload = data[name];
  if (payload?.userErrors?.length) throw new UserErrors(payload.userErrors);
  return payload;
}

// End the session on the server (if it still runs) and here; the app forgets who was in.
export async function signOut() {
  try {
    await gql(`mutation SignOut { signOut { ok } }`);
  } catch {
    /* the session may have ended already: forgetting it here is what matters */
  }
  session.clear();
  events.dispatchEvent(new Event("signed-out"));
}

// --- files -------------------------------------------------------------------------------

async function fileAnswer(response) {
  if (response.ok) return response;
  let body = {};
  try {
    body = await response.json();
  } catch {
    /* not JSON: the status decides */
  }
  if (response.status === 401 && session.signedIn && (await refresh())) return null;
  throw new ApiError(body.code || codeOfStatus(response.status), body.message || "");
}

// A refusal without a body of ours (a proxy's page): the documented code of its status.
function codeOfStatus(status) {
  const known = { 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND", 408: "REQUEST_TIMEOUT",
    413: "BODY_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 429: "RATE_LIMITED", 503: "DATABASE_UNAVAILABLE" };
  return known[status] || (status >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST");
}

// Send a spreadsheet; resolves to the upload's ID for importRoster.
export async function upload(file) {
  const path = `/uploads?filename=${encodeURIComponent(file.name)}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    const response = await fetch(path, { method: "POST", headers: headers(), body: file });
    const ok = await fileAnswer(response);
    if (ok) return (await ok.json()).id;
  }
  throw new ApiError("UNAUTHENTICATED", "");
}

// Fetch a file with the session's credentials and hand it to the browser as a download.
export async function download(path, filename) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const ok = await fileAnswer(await fetch(path, { headers: headers() }));
    if (!ok) continue;
    const blob = await ok.blob();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    return;
  }
  throw new ApiError("UNAUTHENTICATED", "");
}
