// The licence commands of the desktop's Licence screen (screens/licence.ts),
// answered from the cloud's licence routes for the portal. The desktop
// verifies a signed file offline; the portal is served by the cloud that
// keeps the licence, so its status is read as the cloud states it:
// `GET /licence/status` (plan in force, term, limits, use), `/licence/history`
// and `POST /licence/cards` (admins). Shapes are the contract's.
import type { CloudUsageView, LicenceHistoryEntry, LicenceScreen, Limits, Plan } from "../bindings";
import { formatDateTime } from "../time";
import { formatBytesBinary } from "./backend";
import { apiFetch } from "./http";

/** `GET /api/v1/licence/status` (the fields shown). */
export interface LicenceStatusReply {
  account: string;
  plan: string;
  expires: number | null;
  days_left: number | null;
  limits: Limits;
  usage: { users: number; teams: number; agents: number; groups: number; storage_bytes: number };
  over_capacity_since?: number | null;
}

interface HistoryReply {
  at: number;
  what: string;
  by: string;
  detail: string;
}

const PLANS: Plan[] = ["free", "standard", "pro"];

function plan(p: string): Plan {
  return PLANS.includes(p as Plan) ? (p as Plan) : "free";
}

/** The Licence screen's view of the cloud's status. Limits of the agent
 * side (instruments per agent, ...) are the desktop's: `usage` is empty and
 * the account's limits come as `licenceCloudUsage`. */
export function licenceScreenOf(st: LicenceStatusReply): LicenceScreen {
  const p = plan(st.plan);
  return {
    licence: {
      plan: p,
      // A term in force is what a licence grants; Free without one is no licence.
      licensed_plan: st.expires !== null || p !== "free" ? p : null,
      serial: null,
      account: st.account,
      issued_at: null,
      expires: st.expires,
      days_left: st.days_left,
      limits: st.limits,
      gateway: null,
      problem: st.over_capacity_since ? `over capacity since ${formatDateTime(st.over_capacity_since)}` : null,
      last_check: null,
      checks: [],
    },
    usage: [],
    banner: null,
  };
}

/** The account-wide bars, as the desktop's core builds them from the same reply. */
export function cloudUsageOf(st: LicenceStatusReply): CloudUsageView {
  const bar = (limit: string, used: number, max: number, text: string) => ({
    limit,
    used,
    max,
    percent: max === 0 ? 100 : Math.min(100, (used * 100) / max),
    full: used >= max,
    text,
  });
  const count = (limit: "users" | "teams" | "agents" | "groups") => bar(limit, st.usage[limit], st.limits[limit], `${st.usage[limit]} / ${st.limits[limit]}`);
  return {
    account: st.account,
    plan: st.plan,
    limits: [
      count("users"),
      count("teams"),
      count("agents"),
      count("groups"),
      bar("storage_bytes", st.usage.storage_bytes, st.limits.storage_bytes, `${formatBytesBinary(st.usage.storage_bytes)} / ${formatBytesBinary(st.limits.storage_bytes)}`),
    ],
  };
}

export function historyOf(list: HistoryReply[]): LicenceHistoryEntry[] {
  return list.map((e) => ({ at: formatDateTime(e.at), what: e.what, by: e.by || null, detail: e.detail || null }));
}

type Handler = (a: Record<string, unknown>) => Promise<unknown>;

const status = (): Promise<LicenceStatusReply> => apiFetch<LicenceStatusReply>("GET", "/licence/status");

/** The back end's licence commands (merged into backend.ts's handlers). */
export const licenceHandlers: Record<string, Handler> = {
  licence_show: async () => licenceScreenOf(await status()),
  // The cloud is where the licence lives: fetching is reading it again.
  licence_fetch: async () => licenceScreenOf(await status()),
  licence_cloud_usage: async () => cloudUsageOf(await status()),
  licence_history: async () => historyOf(await apiFetch<HistoryReply[]>("GET", "/licence/history")),
  licence_apply_card: async (a) => licenceScreenOf(await apiFetch<LicenceStatusReply>("POST", "/licence/cards", { card: String(a.card ?? "") })),
};
