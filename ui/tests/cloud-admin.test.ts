// @vitest-environment happy-dom
// The administration sections (ui/src/cloud-admin) against a fake
// CloudAdminApi: what each role is shown, the typed confirmation of an
// account deletion, secrets shown once, the TOTP QR and confirm step,
// the access log's filters and pages; and the browser back end's REST
// calls (web.ts) against a fake apiFetch.
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn() }));

import type { AccessLogQuery, AdminGroup, AdminMe, AdminTeam, AdminUser, CloudAdminApi } from "../src/cloud-admin/api";
import { adminSections, adminTabs, cloudAdminScreen } from "../src/cloud-admin";
import { accessLogSection } from "../src/cloud-admin/access-log";
import { accountSection } from "../src/cloud-admin/account";
import { groupSecret, totpSection } from "../src/cloud-admin/totp";
import { tokensSection } from "../src/cloud-admin/tokens";
import { usersSection } from "../src/cloud-admin/users";
import { webCloudAdmin } from "../src/cloud-admin/web";

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};
const q = (root: ParentNode, id: string): HTMLElement | null => root.querySelector(`[data-testid="${id}"]`);
const all = (root: ParentNode, id: string): HTMLElement[] => [...root.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`)];
function type(el: HTMLElement | null, value: string): void {
  const input = el as HTMLInputElement;
  input.value = value;
  input.dispatchEvent(new Event("input"));
}
function submit(el: HTMLElement | null): void {
  (el as HTMLFormElement).dispatchEvent(new Event("submit", { cancelable: true }));
}

const me = (role: string): AdminMe => ({ account: "acme", account_name: "Acme", user: role === "admin" ? "boss" : "mia", role, two_factor: "none" });

/** An in-memory account behind the CloudAdminApi, recording every call. */
function fakeApi(role = "admin") {
  const calls: [string, unknown[]][] = [];
  let who = me(role);
  let users: AdminUser[] = [{ id: "boss", name: "Boss", email: "boss@example.com", role: "admin", two_factor: "none", must_change: false, created_ms: 1 }];
  let teams: AdminTeam[] = [];
  let groups: AdminGroup[] = [];
  let tokens: { id: string; user: string; name: string; created_ms: number; last_used_ms: number | null }[] = [];
  let ipAllow: string[] = [];
  const log = Array.from({ length: 7 }, (_, k) => ({ t_ms: 1_000_000 - k, user: k % 2 ? "mia" : "boss", ip: "127.0.0.1", method: "GET", path: `/api/v1/p${k}`, status: 200 }));
  const rec = (name: string, ...args: unknown[]): void => {
    calls.push([name, args]);
  };
  const api: CloudAdminApi = {
    me: async () => (rec("me"), who),
    users: async () => (rec("users"), users),
    createUser: async (id, name, email, r) => {
      rec("createUser", id, name, email, r);
      const u = { id, name, email, role: r, two_factor: "none", must_change: true, created_ms: 2 };
      users = [...users, u];
      return { user: u, temporary_password: "Tmp-Pass-9x" };
    },
    updateUser: async (id, patch) => {
      rec("updateUser", id, patch);
      users = users.map((u) => (u.id === id ? { ...u, role: patch.role ?? u.role, two_factor: patch.two_factor ?? u.two_factor } : u));
      return users.find((u) => u.id === id)!;
    },
    temporaryPassword: async (id) => (rec("temporaryPassword", id), { user: users.find((u) => u.id === id)!, temporary_password: "Again-123x" }),
    deleteUser: async (id) => {
      rec("deleteUser", id);
      users = users.filter((u) => u.id !== id);
    },
    teams: async () => (rec("teams"), teams),
    saveTeam: async (create, team) => {
      rec("saveTeam", create, team);
      teams = [...teams.filter((x) => x.id !== team.id), team];
      return team;
    },
    deleteTeam: async (id) => void rec("deleteTeam", id),
    agents: async () => (rec("agents"), [{ id: "ag1", name: "osaka" }]),
    groups: async () => (rec("groups"), groups),
    saveGroup: async (create, g) => {
      rec("saveGroup", create, g);
      groups = [...groups.filter((x) => x.id !== g.id), g];
      return g;
    },
    deleteGroup: async (id) => void rec("deleteGroup", id),
    totpSetup: async () => (rec("totpSetup"), { secret: "JBSWY3DPEHPK3PXP", otpauth_url: "otpauth://totp/Meterdeck:acme%2Fboss?secret=JBSWY3DPEHPK3PXP&issuer=Meterdeck" }),
    totpConfirm: async (code) => {
      rec("totpConfirm", code);
      if (code !== "123456") throw "the code does not match";
      who = { ...who, two_factor: "totp" };
      return "totp";
    },
    tokens: async () => (rec("tokens"), tokens),
    createToken: async (name) => {
      rec("createToken", name);
      tokens = [...tokens, { id: "t-1", user: who.user, name, created_ms: 5, last_used_ms: null }];
      return { id: "t-1", name, token: "mdt_secret_once" };
    },
    deleteToken: async (id) => {
      rec("deleteToken", id);
      tokens = tokens.filter((x) => x.id !== id);
    },
    account: async () => (rec("account"), { id: "acme", name: "Acme", plan: "pro", ip_allow: ipAllow, created_ms: 0 }),
    setIpAllow: async (list) => {
      rec("setIpAllow", list);
      ipAllow = list;
      return list;
    },
    accessLog: async (query: AccessLogQuery) => {
      rec("accessLog", query);
      const hits = log.filter((e) => !query.user || e.user === query.user);
      return { entries: hits.slice(query.offset, query.offset + query.limit), offset: query.offset, more: hits.length > query.offset + query.limit };
    },
    deleteAccount: async (confirm, password) => void rec("deleteAccount", confirm, password),
  };
  const named = (n: string) => calls.filter(([c]) => c === n).map(([, a]) => a);
  return { api, calls, named };
}

beforeEach(() => {
  document.body.replaceChildren();
});

describe("role hiding", () => {
  it("gives admins every section, members their authenticator and tokens, viewers their authenticator", () => {
    const ids = (role: string) => adminSections(fakeApi(role).api, me(role), () => {}).map((s) => s.id);
    expect(ids("admin")).toEqual(["users", "teams", "groups", "security", "tokens", "log", "account"]);
    expect(ids("member")).toEqual(["security", "tokens"]);
    expect(ids("viewer")).toEqual(["security"]);
  });

  it("shows the tabs a member may use, and none when signed out", async () => {
    const { api } = fakeApi("member");
    const home = document.createElement("div");
    const tabs = adminTabs(api, { homeLabel: "Account", homePage: home, onAccountDeleted: () => {} });
    await tabs.refresh(true);
    const tabIds = all(tabs.nav, "admin-nav").flatMap((n) => [...n.querySelectorAll("button")].map((b) => b.dataset.section));
    expect(tabIds).toEqual(["home", "security", "tokens"]);
    expect(q(tabs.nav, "admin-tab-users")).toBeNull();
    expect(q(tabs.nav, "admin-tab-account")).toBeNull();
    q(tabs.nav, "admin-tab-tokens")!.click();
    await flush();
    expect(home.hidden).toBe(true);
    expect(q(tabs.host, "admin-tokens-section")).not.toBeNull();
    await tabs.refresh(false);
    expect(q(tabs.nav, "admin-tab-tokens")).toBeNull();
    expect(q(tabs.nav, "admin-tab-home")).toBeNull();
    expect(home.hidden).toBe(false);
  });

  it("as the portal's screen, opens an admin at Users and a viewer at the authenticator", async () => {
    const admin = cloudAdminScreen(fakeApi("admin").api, () => {});
    admin.show();
    await flush();
    expect(q(admin.root, "admin-tab-home")).toBeNull();
    expect(q(admin.root, "admin-users-section")).not.toBeNull();
    expect(all(admin.root, "admin-user-row").map((r) => r.dataset.user)).toEqual(["boss"]);
    const viewer = cloudAdminScreen(fakeApi("viewer").api, () => {});
    viewer.show();
    await flush();
    expect([...viewer.root.querySelectorAll<HTMLElement>("[data-section]")].map((b) => b.dataset.section)).toEqual(["security"]);
    expect(q(viewer.root, "admin-totp-section")).not.toBeNull();
  });

  it("hides the token form from viewers", async () => {
    const { api } = fakeApi("viewer");
    const s = tokensSection(api, me("viewer"));
    await s.load();
    expect(q(s.root, "admin-token-form")).toBeNull();
  });
});

describe("users", () => {
  it("invites with a temporary password shown once, changes a role", async () => {
    const { api, named } = fakeApi();
    const s = usersSection(api, me("admin"));
    document.body.append(s.root);
    await s.load();
    type(q(s.root, "admin-invite-id"), "mia");
    type(q(s.root, "admin-invite-email"), "mia@example.com");
    (q(s.root, "admin-invite-role") as HTMLSelectElement).value = "viewer";
    submit(q(s.root, "admin-invite-form"));
    await flush();
    expect(named("createUser")).toEqual([["mia", "", "mia@example.com", "viewer"]]);
    expect(q(s.root, "admin-temp-password-text")!.textContent).toBe("Tmp-Pass-9x");
    const row = all(s.root, "admin-user-row").find((r) => r.dataset.user === "mia")!;
    expect(row.dataset.role).toBe("viewer");
    const sel = q(row, "admin-user-role") as HTMLSelectElement;
    sel.value = "member";
    sel.dispatchEvent(new Event("change"));
    await flush();
    expect(named("updateUser")).toEqual([["mia", { name: null, email: null, role: "member", two_factor: null }]]);
    // A later visit does not show the password again.
    await s.load();
    expect(s.root.textContent).not.toContain("Tmp-Pass-9x");
    // Your own row has no delete button (the API keeps one admin anyway).
    const own = all(s.root, "admin-user-row").find((r) => r.dataset.user === "boss")!;
    expect(q(own, "admin-user-delete")).toBeNull();
  });

  it("deletes only on the second click", async () => {
    const { api, named } = fakeApi();
    await api.createUser("mia", "", "", "member");
    const s = usersSection(api, me("admin"));
    await s.load();
    const del = q(all(s.root, "admin-user-row").find((r) => r.dataset.user === "mia")!, "admin-user-delete")!;
    del.click();
    await flush();
    expect(named("deleteUser")).toEqual([]);
    del.click();
    await flush();
    expect(named("deleteUser")).toEqual([["mia"]]);
  });
});

describe("API tokens", () => {
  it("shows a new token once, with a copy button, never in the list", async () => {
    const { api, named } = fakeApi("member");
    const s = tokensSection(api, me("member"));
    document.body.append(s.root);
    await s.load();
    type(q(s.root, "admin-token-name"), "reporting");
    submit(q(s.root, "admin-token-form"));
    await flush();
    expect(named("createToken")).toEqual([["reporting"]]);
    expect(q(s.root, "admin-token-secret-text")!.textContent).toBe("mdt_secret_once");
    expect(q(s.root, "admin-token-secret-copy")).not.toBeNull();
    const rows = all(s.root, "admin-token-row");
    expect(rows.map((r) => r.dataset.token)).toEqual(["t-1"]);
    expect(rows[0].textContent).not.toContain("mdt_secret_once");
    q(s.root, "admin-token-secret-done")!.click();
    expect(s.root.textContent).not.toContain("mdt_secret_once");
    await s.load();
    expect(s.root.textContent).not.toContain("mdt_secret_once");
  });
});

describe("account deletion", () => {
  it("needs the account ID typed exactly and the password", async () => {
    const { api, named } = fakeApi();
    let deleted = 0;
    const s = accountSection(api, () => deleted++);
    document.body.append(s.root);
    await s.load();
    const button = q(s.root, "admin-delete-account") as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    type(q(s.root, "admin-delete-password"), "Pass-word1");
    type(q(s.root, "admin-delete-confirm"), "acm");
    expect(button.disabled).toBe(true);
    submit(button.form);
    await flush();
    expect(named("deleteAccount")).toEqual([]);
    type(q(s.root, "admin-delete-confirm"), "acme");
    expect(button.disabled).toBe(false);
    submit(button.form);
    await flush();
    expect(named("deleteAccount")).toEqual([["acme", "Pass-word1"]]);
    expect(deleted).toBe(1);
  });

  it("sets the IP allow-list from lines", async () => {
    const { api, named } = fakeApi();
    const s = accountSection(api, () => {});
    await s.load();
    (q(s.root, "admin-ip-allow") as HTMLTextAreaElement).value = "127.0.0.0/8\n 10.0.0.0/8 ,\n";
    submit((q(s.root, "admin-ip-save") as HTMLButtonElement).form);
    await flush();
    expect(named("setIpAllow")).toEqual([[["127.0.0.0/8", "10.0.0.0/8"]]]);
    expect(q(s.root, "admin-ip-saved")!.hidden).toBe(false);
  });
});

describe("authenticator", () => {
  it("shows the QR code and the secret, then confirms with a code", async () => {
    const { api, named } = fakeApi();
    const s = totpSection(api, me("admin"));
    document.body.append(s.root);
    await s.load();
    q(s.root, "admin-totp-start")!.click();
    await flush();
    const qr = q(s.root, "admin-totp-qr")!;
    expect(qr.tagName.toLowerCase()).toBe("svg");
    expect(Number(qr.getAttribute("data-modules"))).toBeGreaterThanOrEqual(21);
    expect(qr.querySelector("path")!.getAttribute("d")!.length).toBeGreaterThan(100);
    expect(q(s.root, "admin-totp-secret")!.dataset.secret).toBe("JBSWY3DPEHPK3PXP");
    expect(q(s.root, "admin-totp-secret")!.textContent).toBe(groupSecret("JBSWY3DPEHPK3PXP"));
    type(q(s.root, "admin-totp-code"), "000000");
    submit((q(s.root, "admin-totp-confirm") as HTMLButtonElement).form);
    await flush();
    expect(q(s.root, "admin-totp-error")!.hidden).toBe(false);
    type(q(s.root, "admin-totp-code"), "123456");
    submit((q(s.root, "admin-totp-confirm") as HTMLButtonElement).form);
    await flush();
    expect(named("totpConfirm")).toEqual([["000000"], ["123456"]]);
    expect(q(s.root, "admin-totp-state")!.dataset.twoFactor).toBe("totp");
    expect(q(s.root, "admin-totp-done")).not.toBeNull();
    expect(q(s.root, "admin-totp-start")).toBeNull();
  });
});

describe("access log", () => {
  it("filters by user and pages with offsets", async () => {
    const { api, named } = fakeApi();
    const s = accessLogSection(api, 2);
    await s.load();
    expect(all(s.root, "admin-log-row")).toHaveLength(2);
    expect((q(s.root, "admin-log-newer") as HTMLButtonElement).disabled).toBe(true);
    q(s.root, "admin-log-older")!.click();
    await flush();
    expect(all(s.root, "admin-log-row").map((r) => r.dataset.path)).toEqual(["/api/v1/p2", "/api/v1/p3"]);
    type(q(s.root, "admin-log-user"), "mia");
    type(q(s.root, "admin-log-action"), "GET");
    submit(q(s.root, "admin-log-filter"));
    await flush();
    const last = named("accessLog").at(-1)![0] as AccessLogQuery;
    expect(last).toMatchObject({ user: "mia", action: "GET", offset: 0, limit: 2, from: null, to: null });
    expect(all(s.root, "admin-log-row").every((r) => r.dataset.user === "mia")).toBe(true);
  });

  it("names a time it cannot read", async () => {
    const { api } = fakeApi();
    const s = accessLogSection(api, 2);
    await s.load();
    // A datetime-local input holds only valid text; a stand-in value shows the check.
    Object.defineProperty(q(s.root, "admin-log-from"), "value", { value: "yesterday" });
    submit(q(s.root, "admin-log-filter"));
    await flush();
    expect(q(s.root, "admin-log-error")!.textContent).toContain("yesterday");
  });
});

describe("web back end", () => {
  it("speaks the REST API through apiFetch", async () => {
    const sent: [string, string, unknown][] = [];
    const answers: Record<string, unknown> = {
      "GET /me": { account: { id: "acme", name: "Acme" }, user: { id: "boss", role: "admin", two_factor: "none" } },
      "POST /users": { user: { id: "mia" }, temporary_password: "x" },
      "PUT /account/ip-allow": { ip_allow: ["127.0.0.0/8"] },
      "POST /me/totp/confirm": { two_factor: "totp" },
    };
    const fetch = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      sent.push([method, path, body]);
      const key = `${method} ${path.split("?")[0]}`;
      if (key === "GET /access-log") return [1, 2, 3].map((k) => ({ t_ms: k })) as T;
      return (answers[key] ?? null) as T;
    };
    const api = webCloudAdmin(fetch);
    expect(await api.me()).toEqual({ account: "acme", account_name: "Acme", user: "boss", role: "admin", two_factor: "none" });
    await api.createUser(" mia ", "", "mia@example.com", "viewer");
    await api.updateUser("mia", { name: null, email: null, role: "member", two_factor: null });
    await api.saveTeam(false, { id: "ops", name: "Ops", members: ["mia"] });
    await api.saveGroup(true, { id: "g1", name: "G", agents: ["a"], users: [], teams: ["ops"] });
    expect(await api.setIpAllow([" 127.0.0.0/8 ", ""])).toEqual(["127.0.0.0/8"]);
    expect(await api.totpConfirm("123 456")).toBe("totp");
    const page = await api.accessLog({ user: "mia", action: null, from: 5, to: null, offset: 10, limit: 2 });
    expect(page).toMatchObject({ offset: 10, more: true });
    expect(page.entries).toHaveLength(2);
    await expect(api.deleteAccount("acm", "pw")).rejects.toThrow(/acme/);
    await api.deleteAccount("acme", "pw");
    expect(sent).toEqual([
      ["GET", "/me", undefined],
      ["POST", "/users", { id: "mia", name: "mia", email: "mia@example.com", role: "viewer" }],
      ["PATCH", "/users/mia", { role: "member" }],
      ["PUT", "/teams/ops", { name: "Ops", members: ["mia"] }],
      ["POST", "/groups", { id: "g1", name: "G", agents: ["a"], users: [], teams: ["ops"] }],
      ["PUT", "/account/ip-allow", { ip_allow: ["127.0.0.0/8"] }],
      ["POST", "/me/totp/confirm", { code: "123456" }],
      ["GET", "/access-log?limit=3&offset=10&user=mia&from=5", undefined],
      ["GET", "/me", undefined],
      ["GET", "/me", undefined],
      ["DELETE", "/account", { password: "pw" }],
    ]);
  });
});
