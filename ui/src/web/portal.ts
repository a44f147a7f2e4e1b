// The web portal (issue 15): the same screens, served by the cloud to a
// browser, with the Web API as back end (backend.ts over http.ts). This
// file is the browser's shell: sign-in (password, then the email or
// authenticator code, then the forced change of a temporary password), the
// reset-password pages behind the mailed link (`/reset?account&user&code`),
// sign-out, the logout after 24 h without activity, and the nav of the
// screens that have cloud data. The session is an HttpOnly cookie the page
// never sees; nothing is kept in localStorage.
import { cloudAdminScreen, webCloudAdmin } from "../cloud-admin";
import { setTransport, type Lang } from "../api";
import { clear, h, showError } from "../dom";
import { setLang, t, type Key } from "../i18n";
import { cloudScreen } from "../screens/cloud";
import { viewerScreen } from "../screens/viewer";
import { app, type Screen } from "../state";
import { formatDateTime, setLocale, setTimeZone } from "../time";
import { licenceScreen } from "../screens/licence";
import { browserSettings, csvUrl, registerHandlers, setMe, webCall, type MeReply } from "./backend";
import { dashboardHandlers, webDashboardScreen } from "./dashboards";
import { exportHandlers } from "./export";
import { ApiHttpError, apiFetch, setOnUnauthorized } from "./http";
import { licenceHandlers } from "./licence";
import { noticesScreen } from "./notifications";
import { siteAlarmsScreen } from "./alarms";
import { viewLinkPage, viewToken } from "./view-link";

/** No input for this long: signed out (SPEC 6.4; the server ends the session too). */
export const IDLE_MS = 24 * 60 * 60 * 1000;

/** A screen of the portal's nav. `adminOnly` entries are left out for
 * other roles (the API refuses them anyway). Other parts of the UI (the
 * administration screens) add theirs with `addPortalScreen`. */
export interface PortalScreen {
  name: string;
  label: Key;
  icon: string;
  adminOnly?: boolean;
  make: (me: MeReply) => Screen;
}

const portalScreens: PortalScreen[] = [
  { name: "agents", label: "portal.nav.agents", icon: "☁", make: () => cloudScreen({ web: true, csvHref: (c) => csvUrl(c.id) }) },
  // A site's alarms, journal and events as the cloud knows them (web/alarms.ts).
  { name: "alarms", label: "nav.alarms", icon: "⚠", make: () => siteAlarmsScreen() },
  { name: "viewer", label: "nav.viewer", icon: "∿", make: () => viewerScreen() },
  // The desktop's Dashboard over cloud data (web/dashboards.ts): admins edit, others view.
  { name: "dashboard", label: "nav.dashboard", icon: "▦", make: () => webDashboardScreen() },
  // What the cloud mails and to whom; the desktop's Licence screen over the cloud's licence.
  { name: "notifications", label: "nav.notifications", icon: "✉", make: () => noticesScreen() },
  { name: "licence", label: "nav.licence", icon: "☑", make: () => licenceScreen(() => undefined) },
  // Users, teams, groups, authenticator, tokens, allow-list, access log,
  // account: the sections shown follow the signed-in user's role.
  { name: "admin", label: "admin.title", icon: "⚙", make: () => cloudAdminScreen(webCloudAdmin(), () => void signOut()) },
];

export function addPortalScreen(s: PortalScreen): void {
  if (!portalScreens.some((x) => x.name === s.name)) portalScreens.push(s);
}

interface LoginReply {
  pending: string | null;
  second_factor: string;
  must_change_password: boolean;
}

let lastInput = Date.now();
let idleTimer: number | undefined;
let tickTimer: number | undefined;
let root: HTMLElement;

function applySettings(): void {
  const s = browserSettings();
  setLang(s.language);
  setLocale(s.language as Lang);
  setTimeZone(s.timezone);
  const r = document.documentElement;
  r.dataset.theme = s.theme;
  r.dataset.lang = s.language;
  r.lang = s.language;
  app.state = { version: "web", dataDir: "", configPath: "", demo: false, settings: s };
}

function field(label: string, input: HTMLElement): HTMLElement {
  return h("label", { class: "field" }, h("span", {}, label), input);
}

/** A centred card for the pages before sign-in. */
function page(testid: string, title: string, ...body: (Node | null)[]): void {
  stopApp();
  clear(root);
  root.append(
    h(
      "div",
      { class: "portal-page", testid },
      h("div", { class: "portal-card panel" }, h("div", { class: "brand portal-brand" }, h("span", { class: "logo" }, "▮▮"), t("app.title")), h("h2", {}, title), ...body),
    ),
  );
  document.documentElement.dataset.ready = "1";
}

/** Runs one step of a form: its button is off meanwhile, the error shows under it. */
function onSubmit(form: HTMLFormElement, err: HTMLElement, run: () => Promise<void>): void {
  let busy = false;
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (busy) return;
    busy = true;
    showError(err, null);
    const btn = form.querySelector<HTMLButtonElement>("button[type=submit]");
    if (btn) btn.disabled = true;
    run()
      .catch((e: unknown) => showError(err, e instanceof Error ? e.message : String(e)))
      .finally(() => {
        busy = false;
        if (btn) btn.disabled = false;
      });
  });
}

// ------------------------------------------------------------------ sign-in

export function signInPage(notice?: string): void {
  const account = h("input", { testid: "portal-account", autocomplete: "organization", required: true, size: 24 });
  const user = h("input", { testid: "portal-user", autocomplete: "username", required: true, size: 24 });
  const password = h("input", { testid: "portal-password", type: "password", autocomplete: "current-password", required: true, size: 24 });
  const err = h("div", { class: "error", testid: "portal-signin-error", hidden: true });
  const form = h(
    "form",
    { class: "portal-form", testid: "portal-signin-form" },
    field(t("cloud.accountId"), account),
    field(t("cloud.userId"), user),
    field(t("cloud.password"), password),
    h("button", { class: "primary", type: "submit", testid: "portal-sign-in" }, t("cloud.signIn")),
  );
  onSubmit(form, err, async () => {
    const pw = password.value;
    password.value = "";
    const r = await apiFetch<LoginReply>(
      "POST",
      "/login",
      { account: account.value.trim(), user: user.value.trim(), password: pw },
      { quiet401: true, headers: { "X-Meterdeck-Session": "cookie" } },
    );
    await nextStep(r.pending, r.second_factor);
  });
  const forgot = h("a", { href: "/reset", testid: "portal-forgot" }, t("portal.forgot"));
  forgot.addEventListener("click", (ev) => {
    ev.preventDefault();
    history.pushState(null, "", "/reset");
    resetRequestPage();
  });
  page(
    "portal-signin",
    t("portal.signInTitle"),
    notice ? h("div", { class: "ok", testid: "portal-notice" }, notice) : null,
    form,
    err,
    h("p", { class: "muted" }, forgot),
  );
  account.focus();
}

async function nextStep(pending: string | null, factor?: string): Promise<void> {
  if (pending === "code") return codePage(factor === "email" ? t("cloud.codeEmail") : t("cloud.codeTotp"));
  if (pending === "change_password") return changePage();
  await enter();
}

function cancelButton(): HTMLElement {
  const b = h("button", { type: "button", testid: "portal-cancel" }, t("cloud.cancel"));
  b.addEventListener("click", () => void signOut());
  return b;
}

function codePage(hint: string): void {
  const code = h("input", { testid: "portal-code", inputmode: "numeric", autocomplete: "one-time-code", required: true, size: 10 });
  const err = h("div", { class: "error", testid: "portal-code-error", hidden: true });
  const form = h(
    "form",
    { class: "portal-form", testid: "portal-code-form" },
    field(t("cloud.code"), code),
    h("button", { class: "primary", type: "submit", testid: "portal-code-submit" }, t("cloud.confirm")),
    cancelButton(),
  );
  onSubmit(form, err, async () => {
    const r = await apiFetch<{ pending: string | null }>("POST", "/login/code", { code: code.value.trim() }, { quiet401: true });
    await nextStep(r.pending);
  });
  page("portal-code-page", t("portal.codeTitle"), h("p", {}, hint), form, err);
  code.focus();
}

function changePage(): void {
  const current = h("input", { testid: "portal-current-password", type: "password", autocomplete: "current-password", required: true, size: 24 });
  const next = h("input", { testid: "portal-new-password", type: "password", autocomplete: "new-password", required: true, size: 24 });
  const err = h("div", { class: "error", testid: "portal-password-error", hidden: true });
  const form = h(
    "form",
    { class: "portal-form", testid: "portal-password-form" },
    field(t("cloud.currentPassword"), current),
    field(t("cloud.newPassword"), next),
    h("button", { class: "primary", type: "submit", testid: "portal-password-submit" }, t("cloud.changePassword")),
    cancelButton(),
  );
  onSubmit(form, err, async () => {
    try {
      await apiFetch("POST", "/password", { current: current.value, new: next.value }, { quiet401: true });
    } finally {
      current.value = "";
      next.value = "";
    }
    await enter();
  });
  page("portal-change-page", t("portal.changeTitle"), h("p", {}, t("cloud.mustChange")), h("p", { class: "muted" }, t("cloud.passwordPolicy")), form, err);
}

// ------------------------------------------------------------ reset password

function resetRequestPage(): void {
  const account = h("input", { testid: "portal-reset-account", required: true, size: 24 });
  const user = h("input", { testid: "portal-reset-user", required: true, size: 24 });
  const err = h("div", { class: "error", testid: "portal-reset-error", hidden: true });
  const done = h("div", { class: "ok", testid: "portal-reset-sent", hidden: true });
  const form = h(
    "form",
    { class: "portal-form", testid: "portal-reset-request-form" },
    field(t("cloud.accountId"), account),
    field(t("cloud.userId"), user),
    h("button", { class: "primary", type: "submit", testid: "portal-reset-request" }, t("portal.resetSend")),
  );
  onSubmit(form, err, async () => {
    const r = await apiFetch<{ message: string }>("POST", "/password/reset-request", { account: account.value.trim(), user: user.value.trim() }, { quiet401: true });
    showError(done, r.message);
  });
  page("portal-reset-request-page", t("portal.resetTitle"), h("p", {}, t("portal.resetHint")), form, err, done, backToSignIn());
}

function backToSignIn(): HTMLElement {
  const a = h("a", { href: "/", testid: "portal-back" }, t("portal.backToSignIn"));
  a.addEventListener("click", (ev) => {
    ev.preventDefault();
    history.pushState(null, "", "/");
    signInPage();
  });
  return h("p", { class: "muted" }, a);
}

function resetSetPage(account: string, user: string, code: string): void {
  const next = h("input", { testid: "portal-reset-new", type: "password", autocomplete: "new-password", required: true, size: 24 });
  const err = h("div", { class: "error", testid: "portal-reset-error", hidden: true });
  const form = h(
    "form",
    { class: "portal-form", testid: "portal-reset-form" },
    field(t("cloud.newPassword"), next),
    h("button", { class: "primary", type: "submit", testid: "portal-reset-submit" }, t("portal.resetSet")),
  );
  onSubmit(form, err, async () => {
    try {
      await apiFetch("POST", "/password/reset", { account, user, code, new: next.value }, { quiet401: true });
    } finally {
      next.value = "";
    }
    // The code is spent: the link leaves the address bar.
    history.replaceState(null, "", "/");
    signInPage(t("portal.resetDone"));
  });
  page(
    "portal-reset-page",
    t("portal.resetTitle"),
    h("p", { testid: "portal-reset-who" }, t("portal.resetFor", { account, user })),
    h("p", { class: "muted" }, t("cloud.passwordPolicy")),
    form,
    err,
    backToSignIn(),
  );
}

// --------------------------------------------------------------- the app

async function enter(): Promise<void> {
  const me = await apiFetch<MeReply>("GET", "/me", undefined, { quiet401: true });
  setMe(me);
  // The mails the cloud sends on its own (alarms, notices, reminders) follow
  // the language and zone of the user's last browser or window.
  const s = browserSettings();
  void apiFetch("PUT", "/me/preferences", { language: s.language, zone: s.timezone }, { quiet401: true }).catch(() => undefined);
  if (location.pathname !== "/") history.replaceState(null, "", `/${location.hash}`);
  shell(me);
}

async function signOut(notice?: string): Promise<void> {
  await apiFetch("POST", "/logout", undefined, { quiet401: true }).catch(() => undefined);
  setMe(null);
  history.replaceState(null, "", "/");
  signInPage(notice);
}

function stopApp(): void {
  if (tickTimer !== undefined) clearInterval(tickTimer);
  if (idleTimer !== undefined) clearInterval(idleTimer);
  tickTimer = idleTimer = undefined;
}

function shell(me: MeReply): void {
  stopApp();
  clear(root);
  const visible = portalScreens.filter((s) => !s.adminOnly || me.user.role === "admin");
  const screens = new Map<string, Screen>(visible.map((s) => [s.name, s.make(me)]));
  const buttons = new Map<string, HTMLButtonElement>();
  const fromHash = location.hash.slice(1);
  let current = screens.has(fromHash) ? fromHash : visible[0].name;

  const show = (name: string): void => {
    if (current !== name) screens.get(current)?.hide?.();
    current = name;
    for (const [n, s] of screens) s.root.hidden = n !== name;
    for (const [n, b] of buttons) b.classList.toggle("active", n === name);
    screens.get(name)?.show();
    if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
  };

  const nav = h("nav", { class: "rail" });
  for (const s of visible) {
    const b = h("button", { testid: `nav-${s.name}`, title: t(s.label) }, h("span", { class: "icon", "data-icon": s.icon, "aria-hidden": "true" }), h("span", { class: "label" }, t(s.label)));
    b.addEventListener("click", () => show(s.name));
    buttons.set(s.name, b);
    nav.append(b);
  }
  const out = h("button", { testid: "portal-sign-out" }, t("cloud.signOut"));
  out.addEventListener("click", () => void signOut());
  const clock = h("span", { class: "clock num" });
  const who = me.user.name
    ? t("cloud.signedInAs", { name: me.user.name, user: me.user.id, account: me.account.id, role: me.user.role })
    : t("cloud.signedInAsUser", { user: me.user.id, account: me.account.id, role: me.user.role });
  const header = h(
    "header",
    { class: "topbar" },
    h("div", { class: "brand" }, h("span", { class: "logo" }, "▮▮"), t("app.title")),
    h("span", { class: "muted", testid: "portal-who", "data-role": me.user.role }, who),
    h("span", { class: "spacer" }),
    clock,
    h("span", { class: "tz muted" }, app.state?.settings.timezone ?? ""),
    out,
  );
  const main = h("main", { class: "content" });
  for (const s of screens.values()) {
    s.root.hidden = true;
    main.append(s.root);
  }
  root.append(h("div", { class: "shell portal" }, header, h("div", { class: "body" }, nav, main)));
  show(current);
  document.documentElement.dataset.ready = "1";

  clock.textContent = formatDateTime(Date.now());
  tickTimer = window.setInterval(() => {
    clock.textContent = formatDateTime(Date.now());
    screens.get(current)?.tick?.();
  }, 1000);
  // The screens poll, which keeps the server's session alive: the idle
  // logout counts the person's input, not the requests.
  lastInput = Date.now();
  idleTimer = window.setInterval(() => {
    if (Date.now() - lastInput > IDLE_MS) void signOut(t("portal.idleOut"));
  }, 60_000);
}

function route(): void {
  const p = location.pathname.replace(/\/+$/, "");
  // A view-only link from an alarm message: its own page, no sign-in.
  const token = viewToken(location.pathname);
  if (token !== null) {
    stopApp();
    void viewLinkPage(root, token);
    return;
  }
  if (p === "/reset") {
    const q = new URLSearchParams(location.search);
    const [account, user, code] = [q.get("account"), q.get("user"), q.get("code")];
    if (account && user && code) resetSetPage(account, user, code);
    else resetRequestPage();
    return;
  }
  // Signed in already (the cookie survives a reload)? Else the sign-in page.
  apiFetch<MeReply>("GET", "/me", undefined, { quiet401: true })
    .then((me) => {
      setMe(me);
      shell(me);
    })
    .catch((e: unknown) => {
      // A session that still has a step to do is of no use after a reload.
      if (e instanceof ApiHttpError && e.status === 403) void signOut();
      else signInPage();
    });
}

export function startPortal(): void {
  root = document.getElementById("app")!;
  document.documentElement.dataset.portal = "1";
  applySettings();
  registerHandlers({ ...licenceHandlers, ...exportHandlers, ...dashboardHandlers });
  setTransport(webCall);
  // The session ended on the server (24 h idle, revoked, password reset):
  // back to the sign-in page, saying why.
  setOnUnauthorized((e) => {
    setMe(null);
    history.replaceState(null, "", "/");
    signInPage(e.message);
  });
  for (const ev of ["pointerdown", "keydown", "wheel", "touchstart"]) {
    window.addEventListener(ev, () => (lastInput = Date.now()), { passive: true, capture: true });
  }
  window.addEventListener("popstate", route);
  route();
}
