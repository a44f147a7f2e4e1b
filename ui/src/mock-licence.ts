// Development stand-in for the licence commands (part of the `?mock`
// backend): fixtures only, a Standard licence of account "acme" with 22 days
// left. `?licence=expired` / `?licence=unverified` show those banners.
import type { CloudUsageView, LicenceHistoryEntry, LicenceScreen } from "./api";

type Args = Record<string, unknown>;
const DAY = 86_400_000;
const now = (): number => Date.now();

const standardLimits = {
  storage_bytes: 50_000_000_000,
  users: 10,
  teams: 10,
  agents: 10,
  groups: 10,
  alarms_per_group: 30,
  calcs_per_group: 30,
  panels_per_group: 3,
  channels_per_instrument: 30,
  instruments_per_agent: 8,
  report_templates_per_group: 3,
  web_api: false,
  ip_restriction: false,
  csv_import: false,
  retention_days: null,
};

let mode = "ok";

function screen(): LicenceScreen {
  const issued = now() - 2 * DAY;
  const expires = mode === "expired" ? now() - DAY : now() + 22 * DAY;
  const ok = mode !== "unverified";
  return {
    licence: {
      plan: mode === "expired" ? "free" : "standard",
      licensed_plan: "standard",
      serial: "L-000042",
      account: "acme",
      issued_at: issued,
      expires,
      days_left: Math.floor((expires - now()) / DAY),
      limits: standardLimits,
      gateway: null,
      problem: ok ? null : "the licence file was altered (its signature does not match); fetch the licence again from the cloud",
      last_check: { t: now() - 60_000, source: "start", ok, message: ok ? "licence L-000042 (Standard plan) verified offline" : "the kept licence does not verify" },
      checks: [
        { t: now() - 60_000, source: "start", ok, message: ok ? "licence L-000042 (Standard plan) verified offline" : "the kept licence does not verify" },
        { t: issued, source: "cloud", ok: true, message: "licence L-000042 (standard plan) verified and in force" },
      ],
    },
    usage: [
      { limit: "instruments_per_agent", plan: "Standard", used: 4, max: 8 },
      { limit: "channels_per_instrument", plan: "Standard", used: 24, max: 30 },
      { limit: "alarms_per_group", plan: "Standard", used: 12, max: 30 },
      { limit: "calcs_per_group", plan: "Standard", used: 3, max: 30 },
    ],
    banner: mode === "expired" ? "expired" : mode === "unverified" ? "unverified" : "expiring",
  };
}

const history = (): LicenceHistoryEntry[] => [
  { at: new Date(now() - 2 * DAY).toISOString(), what: "card applied", by: "alice", detail: "Standard, 3 months" },
  { at: new Date(now() - 95 * DAY).toISOString(), what: "plan changed", by: "alice", detail: "Free → Standard" },
];

export const licenceCommands: Record<string, (a: Args) => unknown> = {
  licence_show: () => screen(),
  licence_fetch: () => screen(),
  licence_history: () => history(),
  licence_cloud_usage: (): CloudUsageView => ({
    account: "acme",
    plan: "standard",
    limits: [
      { limit: "users", used: 4, max: 10, percent: 40, full: false, text: "4 / 10" },
      { limit: "teams", used: 2, max: 10, percent: 20, full: false, text: "2 / 10" },
      { limit: "agents", used: 2, max: 10, percent: 20, full: false, text: "2 / 10" },
      { limit: "groups", used: 3, max: 10, percent: 30, full: false, text: "3 / 10" },
      { limit: "storage_bytes", used: 7_301_234_688, max: 50_000_000_000, percent: 14.6, full: false, text: "6.8 GiB / 46.6 GiB" },
    ],
  }),
  licence_apply_card: (a) => {
    if (!String(a.card ?? "").trim()) throw "card: must not be empty";
    throw `card ${String(a.card)} is not known to the licence authority`;
  },
};

export function startLicenceMock(q: URLSearchParams): void {
  mode = q.get("licence") ?? "ok";
}
