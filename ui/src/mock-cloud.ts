// Development stand-in for the cloud commands (part of the `?mock` backend):
// an account "acme" with two agents (sites). Starts signed in; `?cloud=out`
// starts at the sign-in form. Users: any name with password "demo";
// "temp" must change it first; "otp" is asked for the code 123456. Fixtures
// and the simplest state only: the checks (service URL, password policy,
// time ranges) are the backend's, not copied here.
import { cloudAdminCommands } from "./mock-cloud-admin";
import type { CloudAgent, CloudChannel, CloudSeries, CloudStatus, CloudStorage, LocalSyncView } from "./api";
import type { SiteAlarms } from "./bindings";

type Args = Record<string, unknown>;
const now = (): number => Date.now();

const URL0 = "https://cloud.meterdeck.example";
let status: CloudStatus = {
  url: URL0,
  account: "acme",
  user: "alice",
  signed_in: true,
  step: null,
  second_factor: null,
  me: { account: "acme", user: "alice", name: "Alice Tanaka", role: "admin" },
  error: null,
};
let pendingUser: string | null = null;

const agents = (): CloudAgent[] => [
  {
    id: "a1",
    name: "osaka-line1",
    online: true,
    sync: { last_batch_ms: now() - 4_000, backlog: 0, samples: 18_432_117, batches: 92_160, rejected: 0, last_error: null },
    last_batch_age_ms: 4_000,
    traffic_month_bytes: 4_620_000_000,
    traffic_allowance: 5_000_000_000,
    traffic_percent: 92.4,
    traffic_warning: true,
  },
  {
    id: "a2",
    name: "kyoto-lab",
    online: false,
    sync: { last_batch_ms: now() - 3 * 3_600_000, backlog: 1_240, samples: 2_004_551, batches: 10_020, rejected: 2, last_error: "batch 10021 larger than 1 MiB" },
    last_batch_age_ms: 3 * 3_600_000,
    traffic_month_bytes: 812_000_000,
    traffic_allowance: 5_000_000_000,
    traffic_percent: 16.24,
    traffic_warning: false,
  },
];

const CHANNELS: Record<string, [string, string | null][]> = {
  a1: [["logger1/CH1_1", "°C"], ["logger1/CH1_2", "°C"], ["power1/P1", "W"]],
  a2: [["dmm1/VDC", "V"], ["oven/CH1_1", "°C"]],
};

function channels(agent: string): CloudChannel[] {
  const name = agents().find((a) => a.id === agent)?.name;
  if (!name) throw `no agent ${agent} in this account`;
  return (CHANNELS[agent] ?? []).map(([path, unit], k) => ({
    id: `${agent}-${k + 1}`,
    agent,
    agent_name: name,
    path,
    unit,
    samples: 864_000 + k * 1000,
    t_first: now() - 30 * 86_400_000,
    t_last: now() - (agent === "a2" ? 3 * 3_600_000 : 4_000),
    label: `acme/${name} · ${path}`,
    site: `acme/${name}`,
  }));
}

function series(a: Args): CloudSeries {
  const id = String(a.channel);
  const from = Number(a.from);
  const to = Number(a.to);
  const n = Math.max(1, Math.min(Number(a.buckets), 4000));
  const seed = [...id].reduce((s, c) => s + c.charCodeAt(0), 0);
  const base = id.endsWith("-3") ? 180 : id.startsWith("a2") ? 26 : 23;
  const end = id.startsWith("a2") ? Math.min(to, now() - 3 * 3_600_000) : Math.min(to, now());
  const out: CloudSeries = { raw: false, t: [], min: [], max: [] };
  const w = (to - from) / n;
  for (let k = 0; k < n; k++) {
    const ts = Math.round(from + k * w);
    if (ts > end) break;
    const x = ts / 3_600_000;
    const v = base + Math.sin(x / (2 + (seed % 5)) + seed) * base * 0.06 + Math.sin(x * 7) * base * 0.01;
    out.t.push(ts);
    out.min.push(v - 0.3);
    out.max.push(v + 0.3);
  }
  return out;
}

const local = (): LocalSyncView => ({
  enabled: true,
  connected: true,
  agent: "demo-laptop",
  broker: "mqtts://cloud.meterdeck.example:8883",
  backlog_samples: 120,
  backlog_batches: 1,
  oldest_ms: now() - 2_000,
  last_ack_ms: now() - 1_500,
  month: new Date().toISOString().slice(0, 7),
  month_bytes: 1_230_000_000,
  allowance_bytes: 5_000_000_000,
  allowance_plan: "Remote Pro",
  paused: null,
  last_error: null,
  traffic_percent: 24.6,
  traffic_warning: false,
});

function need(): void {
  if (!status.signed_in) throw "not signed in to a cloud account: sign in first";
}

function signedIn(user: string): CloudStatus {
  pendingUser = null;
  return { ...status, user, signed_in: true, step: null, second_factor: null, error: null, me: { account: status.account ?? "acme", user, name: null, role: "member" } };
}

export const cloudCommands: Record<string, (a: Args) => unknown> = {
  cloud_status: () => status,
  cloud_sign_in: (a) => {
    const url = String(a.url ?? "").trim();
    if (a.account !== "acme" || a.password !== (a.user === "temp" ? "Temp1234" : "demo")) throw "sign-in refused: wrong account, user or password";
    const user = String(a.user);
    status = { ...status, url: url.replace(/\/+$/, ""), account: "acme", user, signed_in: false, me: null, error: null, step: null, second_factor: null };
    if (user === "temp") status = { ...status, step: "password" };
    else if (user === "otp") status = { ...status, step: "code", second_factor: "totp" };
    else status = signedIn(user);
    pendingUser = status.step ? user : null;
    return status;
  },
  cloud_code: (a) => {
    if (status.step !== "code") throw "no sign-in is waiting for a code: sign in first";
    if (String(a.code).replace(/\s/g, "") !== "123456") throw "sign-in refused: wrong code";
    status = signedIn(pendingUser ?? "otp");
    return status;
  },
  cloud_change_password: () => {
    if (status.step === "password") status = signedIn(pendingUser ?? "temp");
    return status;
  },
  cloud_sign_out: () => {
    status = { ...status, signed_in: false, me: null, step: null, second_factor: null, error: null };
    return status;
  },
  cloud_agents: () => {
    need();
    return agents();
  },
  cloud_channels: (a) => {
    need();
    return channels(String(a.agent));
  },
  cloud_series: (a) => {
    need();
    return series(a);
  },
  cloud_storage: () => {
    need();
    return storage;
  },
  cloud_site_alarms: (a) => {
    need();
    return siteAlarms(String(a.agent));
  },
  cloud_alarm_ack: (a) => {
    need();
    const s = siteAlarms(String(a.agent));
    const x = s.site.find((y) => y.alarm_id === a.alarm);
    if (x) x.pending_ack = { id: "p1", alarm_id: x.alarm_id, user: status.me?.user ?? "alice", comment: String(a.comment), created_ms: now(), sends: 0, expired_ms: null };
    return s;
  },
  sync_status: () => local(),
  ...cloudAdminCommands(() => (status.signed_in && status.me ? status.me : null)),
};

const acked: Record<string, SiteAlarms> = {};
/** The browser mock's alarms of a site: one unacknowledged, one acknowledged. */
function siteAlarms(agent: string): SiteAlarms {
  const t = now();
  return (acked[agent] ??= {
    agent,
    offline: agent === "a2",
    offline_changed_ms: agent === "a2" ? t - 3 * 3_600_000 : null,
    connected: agent !== "a2",
    site: [
      { alarm_id: "hot", name: "Boiler hot", severity: "critical", state: "UNACK", active: true, unacked: true, changed_ms: t - 600_000, since_ms: t - 600_000, ack: null, pending_ack: null },
      { alarm_id: "door", name: "Door open", severity: "low", state: "ACKED", active: true, unacked: false, changed_ms: t - 60_000, since_ms: t - 900_000, ack: { user: "bob", t: t - 60_000, comment: "closing it" }, pending_ack: null },
    ],
  });
}

const storage: CloudStorage = {
  account: "acme",
  plan: "pro",
  used_bytes: 7_301_234_688,
  capacity_bytes: 21_474_836_480,
  percent: 34,
  percent_text: "34.0",
  over: false,
  used_text: "6.8 GiB",
  capacity_text: "20.0 GiB",
  channels: [
    { channel: "11", agent: "a1", path: "line1/press/pressure", bytes: 2_254_857_830, bytes_text: "2.1 GiB" },
    { channel: "12", agent: "a1", path: "line1/press/temp", bytes: 1_610_612_736, bytes_text: "1.5 GiB" },
    { channel: "21", agent: "a2", path: "lab/dmm/voltage", bytes: 966_367_641, bytes_text: "921.6 MiB" },
  ],
};

export function startCloudMock(q: URLSearchParams): void {
  if (q.get("cloud") === "out") status = { ...status, signed_in: false, me: null };
}
