// The administration sections behind one sub-navigation, for the desktop's
// Cloud screen and the portal alike. Which sections appear depends on the
// signed-in user's role (/me): admins get every one; members their
// authenticator and API tokens; viewers their authenticator. The API
// refuses the rest anyway.
import { errorText } from "../api";
import { clear, h } from "../dom";
import { t, type Key } from "../i18n";
import type { Screen } from "../state";
import { canUseTokens, isAdmin, type AdminMe, type CloudAdminApi } from "./api";
import { accessLogSection } from "./access-log";
import { accountSection } from "./account";
import type { AdminSection } from "./common";
import { groupsSection } from "./groups";
import { teamsSection } from "./teams";
import { tokensSection } from "./tokens";
import { totpSection } from "./totp";
import { usersSection } from "./users";

export type { CloudAdminApi } from "./api";
export { tauriCloudAdmin } from "./tauri";
export { webCloudAdmin, type ApiFetch } from "./web";

const LABELS: Record<string, Key> = {
  users: "admin.users",
  teams: "admin.teams",
  groups: "admin.groups",
  security: "admin.totp",
  tokens: "admin.tokens",
  log: "admin.accessLog",
  account: "admin.account",
};

/** The sections `me` may use, in menu order. */
export function adminSections(api: CloudAdminApi, me: AdminMe, onAccountDeleted: () => void): AdminSection[] {
  const out: AdminSection[] = [];
  if (isAdmin(me)) out.push(usersSection(api, me), teamsSection(api), groupsSection(api));
  out.push(totpSection(api, me));
  if (canUseTokens(me)) out.push(tokensSection(api, me));
  if (isAdmin(me)) out.push(accessLogSection(api), accountSection(api, onAccountDeleted));
  return out;
}

export function sectionLabel(id: string): string {
  return LABELS[id] ? t(LABELS[id]) : id;
}

/**
 * A sub-navigation (`nav`, buttons `admin-tab-<id>`) whose first button is
 * the host screen's own page (`home`); the others show an admin section in
 * `host`. `refresh(signedIn)` rereads the role and rebuilds the buttons.
 */
export interface AdminTabs {
  nav: HTMLElement;
  host: HTMLElement;
  refresh(signedIn: boolean): Promise<void>;
  /** Back to the host screen's own page. */
  home(): void;
}

export function adminTabs(api: CloudAdminApi, o: { homeLabel?: string; homePage?: HTMLElement; onAccountDeleted: () => void }): AdminTabs {
  const nav = h("div", { class: "seg admin-nav", testid: "admin-nav" });
  const host = h("div", { class: "admin-host", testid: "admin-host", hidden: true });
  const err = h("div", { class: "error", testid: "admin-nav-error", hidden: true });
  let sections: AdminSection[] = [];
  let buttons: [string, HTMLButtonElement][] = [];
  let current = "home";
  let who = "";

  function select(id: string): void {
    current = id;
    for (const [bid, b] of buttons) b.classList.toggle("active", bid === id);
    const s = sections.find((x) => x.id === id);
    if (o.homePage) o.homePage.hidden = !!s;
    host.hidden = !s;
    clear(host);
    if (s) host.append(s.root);
    if (s) void s.load();
  }

  function button(id: string, label: string): HTMLButtonElement {
    const b = h("button", { type: "button", testid: `admin-tab-${id}`, "data-section": id }, label);
    b.addEventListener("click", () => select(id));
    return b;
  }

  function paint(): void {
    // Signed out (no sections): no navigation at all.
    const home = o.homePage && sections.length ? [["home", o.homeLabel ?? ""] as const] : [];
    buttons = [...home, ...sections.map((s) => [s.id, sectionLabel(s.id)] as const)].map(([id, label]) => [id, button(id, label)]);
    clear(nav);
    nav.append(...buttons.map(([, b]) => b));
    nav.hidden = sections.length === 0;
    const fallback = o.homePage ? "home" : (sections[0]?.id ?? "home");
    select(sections.some((s) => s.id === current) ? current : fallback);
  }

  return {
    nav: h("div", { class: "admin-nav-box" }, nav, err),
    host,
    home: () => select("home"),
    async refresh(signedIn: boolean) {
      err.hidden = true;
      if (!signedIn) {
        sections = [];
        who = "";
        paint();
        return;
      }
      try {
        const me = await api.me();
        const key = `${me.account}/${me.user}/${me.role}`;
        // The same user keeps the sections (and a form being typed in).
        if (key === who) return;
        who = key;
        sections = adminSections(api, me, o.onAccountDeleted);
      } catch (e) {
        sections = [];
        who = "";
        err.textContent = errorText(e);
        err.hidden = false;
      }
      paint();
    },
  };
}

/**
 * The sections as a screen of their own (the portal's nav entry): the
 * sub-navigation over the section shown; `onAccountDeleted` e.g. signs out.
 */
export function cloudAdminScreen(api: CloudAdminApi, onAccountDeleted: () => void): Screen {
  const tabs = adminTabs(api, { onAccountDeleted });
  const root = h("section", { class: "screen cloud-admin", testid: "screen-admin" }, h("div", { class: "toolbar" }, h("h2", {}, t("admin.title")), tabs.nav), tabs.host);
  return {
    root,
    show() {
      void tabs.refresh(true);
    },
  };
}
