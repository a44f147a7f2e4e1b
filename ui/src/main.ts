import "./style.css";
import { api, errorText, events, type LicenceScreen, type LiveEvent, type Note, type UiSettings } from "./api";
import { countUnacked } from "./alarmfmt";
import { clear, h } from "./dom";
import { setLang, t, tDyn, type Key } from "./i18n";
import { alarmsScreen, paintCount } from "./screens/alarms";
import { calcsScreen } from "./screens/calcs";
import { cloudScreen } from "./screens/cloud";
import { consoleScreen } from "./screens/console";
import { dashboardScreen } from "./screens/dashboard";
import { destinationsScreen } from "./screens/destinations";
import { eventsScreen } from "./screens/events";
import { filesScreen } from "./screens/files";
import { instrumentsScreen } from "./screens/instruments";
import { journalScreen } from "./screens/journal";
import { bannerText, licenceScreen } from "./screens/licence";
import { monitorScreen } from "./screens/monitor";
import { notificationsScreen, refreshUnread } from "./screens/notifications";
import { reportsScreen } from "./screens/reports";
import { rulesScreen } from "./screens/rules";
import { settingsScreen } from "./screens/settings";
import { viewerScreen } from "./screens/viewer";
import { alarmChanged, alarmsChanged, app, instrumentsChanged, reasonOf, setInstrumentState, stateDot, type Screen } from "./state";
import { formatDateTime, setLocale, setTimeZone } from "./time";

const NAMES = [
  "dashboard",
  "instruments",
  "monitor",
  "viewer",
  "alarms",
  "journal",
  "notifications",
  "rules",
  "calcs",
  "destinations",
  "console",
  "events",
  "cloud",
  "licence",
  "reports",
  "files",
  "settings",
] as const;
type Name = (typeof NAMES)[number];
const ICONS: Record<Name, string> = {
  dashboard: "▦",
  instruments: "⚙",
  monitor: "◉",
  viewer: "∿",
  alarms: "⚠",
  journal: "☷",
  notifications: "✉",
  rules: "⚑",
  calcs: "ƒx",
  destinations: "⇶",
  console: "›_",
  events: "≡",
  cloud: "☁",
  licence: "☑",
  reports: "▤",
  files: "⊟",
  settings: "☰",
};

let screens = new Map<Name, Screen>();
let current: Name = "monitor";
const navButtons = new Map<Name, HTMLButtonElement>();
let summary: HTMLElement | null = null;
let clock: HTMLElement | null = null;
let unreadBadge: HTMLElement | null = null;
let alarmBadge: HTMLElement | null = null;
let licenceBanner: HTMLElement | null = null;
let licence: LicenceScreen | null = null;

/** The banner under the top bar when the licence is near expiry, expired or not verified. */
function paintLicenceBanner(): void {
  if (!licenceBanner) return;
  const text = licence ? bannerText(licence) : null;
  licenceBanner.hidden = !text;
  clear(licenceBanner);
  if (!text || !licence) return;
  licenceBanner.className = `licence-banner ${licence.banner}`;
  const open = h("button", { class: "link", testid: "licence-banner-open" }, t("licence.banner.open"));
  open.addEventListener("click", () => show("licence"));
  licenceBanner.append(h("span", {}, text), " ", open);
}

function licenceChanged(s: LicenceScreen): void {
  licence = s;
  paintLicenceBanner();
}

/** At start and daily: fetch the licence when signed in (else the one kept), for the banner. */
async function refreshLicence(): Promise<void> {
  try {
    licenceChanged(await api.licenceFetch().catch(() => api.licenceShow()));
  } catch {
    /* the Licence screen shows its own errors */
  }
}

function paintBadges(): void {
  if (unreadBadge) paintCount(unreadBadge, app.unread);
  const unacked = countUnacked(app.alarms);
  if (alarmBadge) paintCount(alarmBadge, unacked);
  const title = t("app.title");
  document.title = app.unread > 0 ? `(${app.unread}) ${title}` : title;
}

function applySettings(s: UiSettings): void {
  setLang(s.language);
  setLocale(s.language);
  setTimeZone(s.timezone);
  const root = document.documentElement;
  root.dataset.theme = s.theme === "dark" ? "dark" : "light";
  root.dataset.lang = s.language;
  root.lang = s.language;
}

function paintSummary(): void {
  if (!summary) return;
  clear(summary);
  const counts = new Map<string, number>();
  for (const i of app.instruments) counts.set(i.state, (counts.get(i.state) ?? 0) + 1);
  if (!app.instruments.length) {
    summary.append(h("span", { class: "muted" }, t("header.none")));
    return;
  }
  for (const st of ["connected", "connecting", "reconnecting", "error", "stopped"]) {
    const n = counts.get(st);
    if (!n) continue;
    summary.append(h("span", { class: "sum-item", title: tDyn(`state.${st}`, st) }, stateDot(st), h("b", {}, String(n)), " ", tDyn(`state.${st}`, st)));
  }
  const tip = app.instruments.map((i) => `${i.config.id}: ${tDyn(`state.${i.state}`, i.state)}${i.reason ? ` (${reasonOf(i)})` : ""}`).join("\n");
  summary.title = tip;
}

const FACTORIES: Record<Name, () => Screen> = {
  dashboard: dashboardScreen,
  instruments: instrumentsScreen,
  monitor: monitorScreen,
  viewer: viewerScreen,
  alarms: alarmsScreen,
  journal: journalScreen,
  notifications: notificationsScreen,
  rules: rulesScreen,
  calcs: calcsScreen,
  destinations: destinationsScreen,
  console: consoleScreen,
  events: eventsScreen,
  cloud: cloudScreen,
  licence: () => licenceScreen(licenceChanged),
  reports: reportsScreen,
  files: filesScreen,
  settings: () => settingsScreen(onSettingsSaved),
};
let mainEl: HTMLElement | null = null;

/** The screen, built and added to the page the first time it is wanted. */
function screenOf(name: Name): Screen {
  let s = screens.get(name);
  if (!s) {
    s = FACTORIES[name]();
    s.root.hidden = true;
    screens.set(name, s);
    mainEl?.append(s.root);
  }
  return s;
}

function show(name: Name): void {
  const prev = screens.get(current);
  if (prev && current !== name) prev.hide?.();
  current = name;
  screenOf(name);
  for (const [n, s] of screens) s.root.hidden = n !== name;
  for (const [n, b] of navButtons) b.classList.toggle("active", n === name);
  screens.get(name)?.show();
  if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
}

function build(): void {
  const body = document.getElementById("app")!;
  clear(body);
  app.listeners.clear();
  app.alarmListeners.clear();
  app.unreadListeners.clear();
  navButtons.clear();
  const st = app.state!;

  summary = h("div", { class: "summary", testid: "connection-summary" });
  clock = h("span", { class: "clock num" });
  const header = h(
    "header",
    { class: "topbar" },
    h("div", { class: "brand" }, h("span", { class: "logo" }, "▮▮"), t("app.title")),
    st.demo ? h("span", { class: "demo-badge" }, t("app.demo")) : null,
    summary,
    h("span", { class: "spacer" }),
    clock,
    h("span", { class: "tz muted" }, st.settings.timezone),
  );

  const nav = h("nav", { class: "rail" });
  for (const n of NAMES) {
    const b = h("button", { testid: `nav-${n}`, title: t(`nav.${n}` as Key) }, h("span", { class: "icon", "data-icon": ICONS[n], "aria-hidden": "true" }), h("span", { class: "label" }, t(`nav.${n}` as Key)));
    b.addEventListener("click", () => show(n));
    if (n === "notifications") {
      unreadBadge = h("span", { class: "nav-badge", testid: "unread-count", hidden: true, "aria-label": t("notes.unreadBadge") });
      b.append(unreadBadge);
    } else if (n === "alarms") {
      alarmBadge = h("span", { class: "nav-badge alarm", testid: "unacked-count", hidden: true, "aria-label": t("alarms.unackedBadge") });
      b.append(alarmBadge);
    }
    navButtons.set(n, b);
    nav.append(b);
  }

  // Screens are built when first shown (issue 17): the start builds one.
  screens = new Map<Name, Screen>();
  mainEl = h("main", { class: "content" });
  app.listeners.add(paintSummary);
  app.alarmListeners.add(paintBadges);
  app.unreadListeners.add(paintBadges);
  licenceBanner = h("div", { class: "licence-banner", testid: "licence-banner", hidden: true });
  body.append(h("div", { class: "shell" }, header, licenceBanner, h("div", { class: "body" }, nav, mainEl)));
  paintLicenceBanner();
  paintSummary();
  paintBadges();
  for (const l of app.listeners) l();
  show(current);
}

function onSettingsSaved(s: UiSettings): void {
  if (app.state) app.state.settings = s;
  applySettings(s);
  build();
}

function onLive(e: LiveEvent): void {
  if (e.type === "readings") {
    const v = app.instruments.find((i) => i.config.id === e.instrument);
    if (v) v.lastPoll = e.t;
  } else if (e.type === "state") {
    if (!setInstrumentState(e.instrument, e.state, e.reason, e.reason_text)) void reloadInstruments();
  } else if (e.type === "instruments") {
    // The configuration changed outside this window (a remote instrument
    // setting from the cloud, issue 16): show the instruments as they now are.
    void reloadInstruments();
  } else if (e.type === "fast-monitor") {
    const v = app.instruments.find((i) => i.config.id === e.instrument);
    if (v) {
      v.fastUntil = e.until;
      instrumentsChanged(app.instruments);
    }
  }
  for (const s of screens.values()) s.onLive?.(e);
}

function onNote(n: Note): void {
  void refreshUnread();
  for (const s of screens.values()) s.onNote?.(n);
}

async function reloadAlarms(): Promise<void> {
  try {
    alarmsChanged(await api.alarmsList());
  } catch {
    /* the alarm screen shows its own errors */
  }
}

async function reloadInstruments(): Promise<void> {
  try {
    instrumentsChanged(await api.listInstruments());
  } catch {
    /* the visible screen shows its own errors */
  }
}

async function start(): Promise<void> {
  const w = window as unknown as { __TAURI_INTERNALS__?: unknown };
  // The mock backend is for development only: `vite dev`, or `?mock` on a
  // preview build (screenshots); inside the desktop app it is never loaded.
  const wantMock = import.meta.env.DEV || new URLSearchParams(location.search).has("mock");
  // Served by the cloud to a browser (issue 15): the web portal, whose back
  // end is the cloud's Web API; the same screens, its own sign-in.
  if (!w.__TAURI_INTERNALS__ && !wantMock) {
    const portal = await import("./web/portal");
    portal.startPortal();
    return;
  }
  if (!w.__TAURI_INTERNALS__ && wantMock) {
    const mock = await import("./mock");
    mock.installMock();
  }
  const root = document.getElementById("app")!;
  root.append(h("div", { class: "boot" }, t("app.loading")));
  performance.mark("app:start");
  let hasBoards = false;
  try {
    // One call for everything the first screen shows (issue 17).
    const sv = await api.startView();
    app.state = sv.state;
    applySettings(app.state.settings);
    app.instruments = sv.instruments;
    app.startLatest = sv.latest;
    hasBoards = sv.hasBoards;
  } catch (e) {
    clear(root);
    root.append(h("div", { class: "boot error" }, `${t("app.startFailed")}: ${errorText(e)}`));
    return;
  }
  performance.mark("app:start-data");
  const fromHash = location.hash.slice(1);
  if ((NAMES as readonly string[]).includes(fromHash)) current = fromHash as Name;
  // A returning user opens on the last board used, once one exists.
  else if (hasBoards) current = "dashboard";
  if (current !== "monitor") app.startLatest = null;
  build();
  performance.mark("app:built");
  document.documentElement.dataset.ready = "1";

  await events.live(onLive).catch((e) => console.error("live", e));
  await events
    .instrumentState((s) => {
      if (!setInstrumentState(s.instrument, s.state, s.reason, s.reasonText)) void reloadInstruments();
    })
    .catch((e) => console.error("instrument-state", e));
  await events.alarm(alarmChanged).catch((e) => console.error("alarm", e));
  await events.notification(onNote).catch((e) => console.error("notification", e));
  void reloadAlarms();
  void refreshUnread();
  void refreshLicence();

  let n = 0;
  setInterval(() => {
    if (clock) clock.textContent = formatDateTime(Date.now());
    screens.get(current)?.tick?.();
    if (++n % 15 === 0) void reloadInstruments();
    if (n % 60 === 0) void reloadAlarms(); // also catches shelving that ran out
    if (n % 86_400 === 0) void refreshLicence(); // daily (SPEC 7.5)
  }, 1000);
  if (clock) clock.textContent = formatDateTime(Date.now());
}

/** Anything unexpected is shown at the bottom of the window, not swallowed. */
function reportUnexpected(msg: string): void {
  let bar = document.getElementById("fatal-bar");
  if (!bar) {
    bar = h("div", { id: "fatal-bar", class: "fatal-bar", testid: "app-error" });
    document.body.append(bar);
  }
  bar.textContent = msg;
}
window.addEventListener("error", (e) => reportUnexpected(e.message));
window.addEventListener("unhandledrejection", (e) => reportUnexpected(errorText(e.reason)));

void start();
