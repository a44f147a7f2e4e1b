// Development stand-in for the cloud administration commands (part of the
// `?mock` backend, beside mock-cloud.ts): account "acme" with a few users,
// a team, a group, tokens and an access log. Fixtures and the simplest
// state only; the checks are the service's.
import type { AccessEntry, AdminGroup, AdminTeam, AdminUser, ApiTokenView } from "./bindings";

type Args = Record<string, unknown>;
type Who = { account: string; user: string; role: string } | null;

export function cloudAdminCommands(who: () => Who): Record<string, (a: Args) => unknown> {
  const now = Date.now();
  let users: AdminUser[] = [
    { id: "alice", name: "Alice Tanaka", email: "alice@example.com", role: "admin", two_factor: "email", must_change: false, created_ms: now - 90 * 86_400_000 },
    { id: "ken", name: "Ken Sato", email: "ken@example.com", role: "member", two_factor: "totp", must_change: false, created_ms: now - 40 * 86_400_000 },
    { id: "yui", name: "Yui Mori", email: "yui@example.com", role: "viewer", two_factor: "none", must_change: true, created_ms: now - 86_400_000 },
  ];
  let teams: AdminTeam[] = [{ id: "line1", name: "Line 1 operators", members: ["ken", "yui"] }];
  let groups: AdminGroup[] = [{ id: "osaka", name: "Osaka plant", agents: ["a1"], users: ["yui"], teams: ["line1"] }];
  let tokens: ApiTokenView[] = [{ id: "t-3f9a2c", user: "alice", name: "reporting script", created_ms: now - 20 * 86_400_000, last_used_ms: now - 3_600_000 }];
  let ipAllow: string[] = [];
  let twoFactor = "email";
  const log: AccessEntry[] = Array.from({ length: 180 }, (_, k) => ({
    t_ms: now - k * 97_000,
    user: ["alice", "ken", "yui"][k % 3],
    ip: k % 5 ? "192.0.2.10" : "198.51.100.7",
    method: k % 7 ? "GET" : "POST",
    path: ["/api/v1/agents", "/api/v1/channels/11/minmax", "/api/v1/login", "/api/v1/users"][k % 4],
    status: k % 11 ? 200 : 403,
  }));
  const need = (admin: boolean): Who => {
    const w = who();
    if (!w) throw "not signed in to a cloud account: sign in first";
    if (admin && w.role !== "admin") throw "forbidden: only admins may do this";
    return w;
  };
  const find = (id: unknown): AdminUser => {
    const u = users.find((x) => x.id === id);
    if (!u) throw `user ${String(id)} not found`;
    return u;
  };
  const temp = (): string => `Tmp-${Math.random().toString(36).slice(2, 8)}9`;
  return {
    cloud_admin_me: () => {
      const w = need(false)!;
      return { account: w.account, account_name: "Acme Corp", user: w.user, role: w.role, two_factor: twoFactor };
    },
    cloud_users: () => (need(true), users),
    cloud_user_create: (a) => {
      need(true);
      if (users.some((u) => u.id === a.id)) throw `user ${String(a.id)} already exists`;
      const u: AdminUser = { id: String(a.id), name: String(a.name || a.id), email: String(a.email ?? ""), role: String(a.role), two_factor: "none", must_change: true, created_ms: Date.now() };
      users = [...users, u];
      return { user: u, temporary_password: temp() };
    },
    cloud_user_update: (a) => {
      need(true);
      const p = a.patch as Partial<AdminUser>;
      const u = { ...find(a.id), ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== null && v !== undefined)) };
      users = users.map((x) => (x.id === u.id ? u : x));
      return u;
    },
    cloud_user_temporary_password: (a) => (need(true), { user: find(a.id), temporary_password: temp() }),
    cloud_user_delete: (a) => {
      need(true);
      find(a.id);
      users = users.filter((u) => u.id !== a.id);
      return null;
    },
    cloud_teams: () => (need(false), teams),
    cloud_team_save: (a) => {
      need(true);
      const team: AdminTeam = { id: String(a.id), name: String(a.name), members: a.members as string[] };
      teams = [...teams.filter((x) => x.id !== team.id), team];
      return team;
    },
    cloud_team_delete: (a) => {
      need(true);
      teams = teams.filter((x) => x.id !== a.id);
      return null;
    },
    cloud_groups: () => (need(false), groups),
    cloud_group_save: (a) => {
      need(true);
      const g = a.group as AdminGroup;
      groups = [...groups.filter((x) => x.id !== g.id), g];
      return g;
    },
    cloud_group_delete: (a) => {
      need(true);
      groups = groups.filter((x) => x.id !== a.id);
      return null;
    },
    cloud_totp_setup: () => {
      const w = need(false)!;
      const secret = "JBSWY3DPEHPK3PXPMD7Q";
      return { secret, otpauth_url: `otpauth://totp/Meterdeck:${w.account}%2F${w.user}?secret=${secret}&issuer=Meterdeck` };
    },
    cloud_totp_confirm: (a) => {
      need(false);
      if (String(a.code) !== "123456") throw "the code does not match; check the app's clock and try the current code";
      twoFactor = "totp";
      return "totp";
    },
    cloud_tokens: () => {
      const w = need(false)!;
      return tokens.filter((x) => w.role === "admin" || x.user === w.user);
    },
    cloud_token_create: (a) => {
      const w = need(false)!;
      const id = `t-${Math.random().toString(16).slice(2, 8)}`;
      tokens = [...tokens, { id, user: w.user, name: String(a.name), created_ms: Date.now(), last_used_ms: null }];
      return { id, name: String(a.name), token: `mdt_${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}` };
    },
    cloud_token_delete: (a) => {
      need(false);
      tokens = tokens.filter((x) => x.id !== a.id);
      return null;
    },
    cloud_account: () => (need(false), { id: "acme", name: "Acme Corp", plan: "pro", ip_allow: ipAllow, created_ms: now - 400 * 86_400_000 }),
    cloud_ip_allow_set: (a) => {
      need(true);
      ipAllow = (a.ipAllow as string[]).map((s) => s.trim()).filter(Boolean);
      return ipAllow;
    },
    cloud_access_log: (a) => {
      need(true);
      const q = a.query as { user: string | null; action: string | null; from: number | null; to: number | null; offset: number; limit: number };
      const hits = log.filter(
        (e) =>
          (!q.user || e.user === q.user) &&
          (!q.action || `${e.method} ${e.path}`.toLowerCase().includes(q.action.toLowerCase())) &&
          (q.from === null || e.t_ms >= q.from) &&
          (q.to === null || e.t_ms < q.to),
      );
      return { entries: hits.slice(q.offset, q.offset + q.limit), offset: q.offset, more: hits.length > q.offset + q.limit };
    },
    cloud_account_delete: (a) => {
      const w = need(true)!;
      if (String(a.confirm).trim() !== w.account) throw `confirmation: type the account ID \`${w.account}\` to delete it`;
      throw "the mock keeps its account (nothing was deleted)";
    },
  };
}
