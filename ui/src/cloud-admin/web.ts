// The browser's CloudAdminApi: each method is one call of the cloud's REST
// API through the portal's `apiFetch` (ui/src/web/http.ts: same-origin
// /api/v1, the session cookie, the CSRF header on state-changing calls,
// errors thrown with the API's message). Tests pass a fake one.
import { apiFetch as portalFetch } from "../web/http";
import type { AccessEntry, AccessLogPage, AdminMe, ApiTokenView, CloudAdminApi } from "./api";

/** `apiFetch<T>(method, path, body?)` of ui/src/web/http.ts. */
export type ApiFetch = <T>(method: string, path: string, body?: unknown) => Promise<T>;

const seg = (s: string): string => encodeURIComponent(s.trim());

interface MeReply {
  account: { id: string; name?: string };
  user: { id: string; role: string; two_factor: string };
}

export function webCloudAdmin(apiFetch: ApiFetch = portalFetch): CloudAdminApi {
  const me = async (): Promise<AdminMe> => {
    const r = await apiFetch<MeReply>("GET", "/me");
    return { account: r.account.id, account_name: r.account.name ?? "", user: r.user.id, role: r.user.role, two_factor: r.user.two_factor };
  };
  const byId = <T extends { id: string }>(list: T[]): T[] => [...list].sort((a, b) => a.id.localeCompare(b.id));
  return {
    me,
    users: async () => byId(await apiFetch("GET", "/users")),
    canInviteByMail: true,
    createUser: (id, name, email, role, invite) =>
      apiFetch("POST", "/users", { id: id.trim(), name: name.trim() || id.trim(), email: email.trim(), role, ...(invite ? { invite: true } : {}) }),
    updateUser: (id, patch) => {
      const body = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== null && v !== undefined));
      return apiFetch("PATCH", `/users/${seg(id)}`, body);
    },
    temporaryPassword: (id) => apiFetch("POST", `/users/${seg(id)}/temporary-password`),
    deleteUser: async (id) => {
      await apiFetch("DELETE", `/users/${seg(id)}`);
    },
    teams: async () => byId(await apiFetch("GET", "/teams")),
    saveTeam: (create, t) =>
      create
        ? apiFetch("POST", "/teams", { id: t.id.trim(), name: t.name.trim(), members: t.members })
        : apiFetch("PUT", `/teams/${seg(t.id)}`, { name: t.name.trim(), members: t.members }),
    deleteTeam: async (id) => {
      await apiFetch("DELETE", `/teams/${seg(id)}`);
    },
    agents: async () =>
      (await apiFetch<{ id: string | number; name: string }[]>("GET", "/agents"))
        .map((a) => ({ id: String(a.id), name: a.name }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    groups: async () => byId(await apiFetch("GET", "/groups")),
    saveGroup: (create, g) => {
      const body = { name: g.name.trim(), agents: g.agents, users: g.users, teams: g.teams };
      return create ? apiFetch("POST", "/groups", { id: g.id.trim(), ...body }) : apiFetch("PUT", `/groups/${seg(g.id)}`, body);
    },
    deleteGroup: async (id) => {
      await apiFetch("DELETE", `/groups/${seg(id)}`);
    },
    totpSetup: () => apiFetch("POST", "/me/totp"),
    totpConfirm: async (code) => (await apiFetch<{ two_factor: string }>("POST", "/me/totp/confirm", { code: code.replace(/\s/g, "") })).two_factor,
    tokens: async () => (await apiFetch<ApiTokenView[]>("GET", "/tokens")).sort((a, b) => b.created_ms - a.created_ms),
    createToken: (name) => apiFetch("POST", "/tokens", { name: name.trim() }),
    deleteToken: async (id) => {
      await apiFetch("DELETE", `/tokens/${seg(id)}`);
    },
    account: () => apiFetch("GET", "/account"),
    setIpAllow: async (list) =>
      (await apiFetch<{ ip_allow: string[] }>("PUT", "/account/ip-allow", { ip_allow: list.map((s) => s.trim()).filter(Boolean) })).ip_allow,
    accessLog: async (q): Promise<AccessLogPage> => {
      const p = new URLSearchParams({ limit: String(q.limit + 1), offset: String(q.offset) });
      if (q.user?.trim()) p.set("user", q.user.trim());
      if (q.action?.trim()) p.set("action", q.action.trim());
      if (q.from !== null && q.from !== undefined) p.set("from", String(q.from));
      if (q.to !== null && q.to !== undefined) p.set("to", String(q.to));
      const entries = await apiFetch<AccessEntry[]>("GET", `/access-log?${p}`);
      return { entries: entries.slice(0, q.limit), offset: q.offset, more: entries.length > q.limit };
    },
    deleteAccount: async (confirm, password) => {
      // The typed confirmation is checked here too, as the desktop's core does.
      const who = await me();
      if (confirm.trim() !== who.account) throw new Error(`confirmation: type the account ID \`${who.account}\` to delete it`);
      await apiFetch("DELETE", "/account", { password });
    },
  };
}
