// Signing in (staff: password, then the second factor; guardians: a code sent to the phone)
// and accepting an invitation. Public pages: they work before anyone is signed in.

import { events, mutate, session } from "../api.js";
import { clear, field, form, h, input } from "../ui.js";

const SIGNED_IN = `tokens { accessToken refreshToken expiresIn } mfaToken mfaSetupRequired
  userErrors { field code message }`;

function started(tokens, go) {
  session.start(tokens);
  events.dispatchEvent(new Event("signed-in"));
  go("");
}

function card(title, ...children) {
  return h("div.login", h("h1", "红领巾工作台"), h("h2", title), ...children);
}

// The second factor: a one-time password from an authenticator app (set it up the first time).
async function secondFactor(el, signIn, go) {
  let setup = null;
  if (signIn.mfaSetupRequired) {
    setup = await mutate(
      `mutation Setup($t: String!) { setupTotp(input: {mfaToken: $t}) { secret uri userErrors { field code message } } }`,
      { t: signIn.mfaToken }, "setupTotp");
  }
  const verify = form([
    field("动态口令", input("code", { inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6, required: true, autofocus: true }),
      "身份验证器应用中显示的 6 位数字"),
  ], async ({ code }) => {
    const done = await mutate(
      `mutation Verify($t: String!, $c: String!) { verifyTotp(input: {mfaToken: $t, code: $c}) { ${SIGNED_IN} } }`,
      { t: signIn.mfaToken, c: code || "" }, "verifyTotp");
    started(done.tokens, go);
  }, "验证并登录");
  clear(el, card("第二步：动态口令",
    setup ? h("div.totp-setup",
      h("p", "管理员账号需要两步验证。请在手机上的身份验证器应用（如“腾讯身份验证器”、Microsoft Authenticator）中添加账号，输入下面的密钥："),
      h("p.secret", { dataset: { secret: setup.secret } }, setup.secret.replace(/(.{4})/g, "$1 ").trim()),
      h("p", h("a", { href: setup.uri }, "在本机的验证器应用中打开"))) : null,
    verify));
}

function staffForm(el, go) {
  return form([
    field("用户名", input("username", { autocomplete: "username", required: true, autofocus: true })),
    field("密码", input("password", { type: "password", autocomplete: "current-password", required: true })),
  ], async ({ username, password }) => {
    const signIn = await mutate(
      `mutation SignIn($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) { ${SIGNED_IN} } }`,
      { u: username || "", p: password || "" }, "signIn");
    if (signIn.tokens) return started(signIn.tokens, go);
    return secondFactor(el, signIn, go);
  }, "登录");
}

function guardianForm(go) {
  const phone = input("phone", { type: "tel", inputmode: "tel", autocomplete: "tel", required: true });
  const send = h("button", { type: "button", dataset: { action: "send-code" } }, "获取验证码");
  const sent = h("small.hint");
  send.addEventListener("click", async () => {
    send.disabled = true;
    try {
      await mutate(`mutation Code($p: String!) { requestLoginCode(input: {phone: $p}) { ok userErrors { field code message } } }`,
        { p: phone.value.trim() }, "requestLoginCode");
      sent.textContent = "验证码已发送，5 分钟内有效";
      setTimeout(() => { send.disabled = false; }, 60_000);
    } catch (error) {
      sent.textContent = error.message;
      send.disabled = false;
    }
  });
  return form([
    field("手机号", phone),
    h("div.row", send, sent),
    field("验证码", input("code", { inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6, required: true })),
  ], async ({ phone: p, code }) => {
    const signIn = await mutate(
      `mutation Code($p: String!, $c: String!) { signInWithCode(input: {phone: $p, code: $c}) { ${SIGNED_IN} } }`,
      { p: p || "", c: code || "" }, "signInWithCode");
    started(signIn.tokens, go);
  }, "登录");
}

function login(el, params, { go }) {
  const staff = staffForm(el, go);
  const guardian = guardianForm(go);
  guardian.hidden = true;
  const tab = (title, show, hide, key) => h("button.tab", {
    type: "button", dataset: { tab: key },
    onclick: (e) => {
      show.hidden = false; hide.hidden = true;
      for (const t of el.querySelectorAll(".tab")) t.classList.toggle("active", t === e.target);
    },
  }, title);
  const tabs = h("div.tabs", tab("工作人员", staff, guardian, "staff"), tab("家长", guardian, staff, "guardian"));
  tabs.firstChild.classList.add("active");
  clear(el, card("登录", tabs, staff, guardian));
  if (params.who === "guardian") tabs.lastChild.click();
}

function invitation(el, { token }, { go }) {
  clear(el, card("接受邀请",
    h("p", "您受邀成为红领巾工作台的工作人员。请设置登录用的用户名和密码（已有账号的，填写现有用户名和密码）。"),
    form([
      field("姓名", input("displayName", { autocomplete: "name" })),
      field("用户名", input("username", { autocomplete: "username", required: true })),
      field("密码", input("password", { type: "password", autocomplete: "new-password", required: true }),
        "至少 10 位，含大写字母、小写字母、数字、符号中的至少三类"),
    ], async (v) => {
      await mutate(
        `mutation Accept($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { grant { role } userErrors { field code message } } }`,
        { i: { token, username: v.username, password: v.password, displayName: v.displayName } }, "acceptInvitation");
      clear(el, card("邀请已接受", h("p", "账号已开通。管理员首次登录时需设置动态口令。"),
        h("button.primary", { onclick: () => go("login") }, "去登录")));
    }, "接受邀请")));
}

export const pages = [
  { path: "login", title: "登录", public: true, render: login },
  { path: "login/:who", title: "登录", public: true, render: login },
  { path: "invite/:token", title: "接受邀请", public: true, render: invitation },
];
