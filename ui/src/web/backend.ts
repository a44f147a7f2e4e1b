// The web portal's back end: the commands the shared screens call, answered
// over the cloud's REST API (src/web/http.ts) instead of Tauri. Only the
// cloud's data exists here: commands of the desktop's own agent (local
// channels, instruments, alarms...) answer empty, and the portal hides
// their screens. The shapes are the contract's (src/bindings); the few
// figures the desktop's core derives (last-batch age, traffic share, the
// storage meter's texts, min/max bands) are derived the same way here.
import type {
  AgentSync,
  AgentView,
  AppState,
  CloudChannelView,
  CloudSeries,
  CloudStatus,
  Commands,
  Me,
  StorageMeter,
  UiSettings,
} from "../bindings";
import { apiFetch } from "./http";
import { encodeFrame } from "../viewer/frame";

type Command = keyof Commands;

/** Who is signed in (`GET /api/v1/me`), set by the portal after sign-in. */
export interface MeReply {
  account: { id: string; name: string; plan: string };
  user: { id: string; name: string; email: string; role: string; two_factor: string; must_change: boolean };
  via: string;
}

let me: MeReply | null = null;
export function setMe(m: MeReply | null): void {
  me = m;
}
export function currentMe(): MeReply | null {
  return me;
}

/** From the desktop's cloudlink: the share at which traffic warns. */
export const TRAFFIC_WARN_PERCENT = 90;
/** The storage meter lists this many channels (as the desktop). */
export const STORAGE_TOP = 5;

interface AgentReply {
  id: string | number;
  name: string;
  online?: boolean;
  sync?: Partial<AgentSync>;
  traffic_bytes?: number;
  traffic_month_bytes?: number;
  traffic_allowance?: number | null;
}

interface ChannelReply {
  id: string | number;
  agent: string | number;
  path: string;
  unit?: string | null;
  samples?: number;
  t_first?: number | null;
  t_last?: number | null;
}

interface Point {
  t: number;
  v?: number | null;
}
interface Bucket {
  t_start: number;
  t_end: number;
  count: number;
  min: Point | null;
  max: Point | null;
}

interface LicenceStatusReply {
  account: string;
  plan: string;
  limits: { storage_bytes: number };
  usage: { storage_bytes: number };
}
interface ChannelBytes {
  channel: string | number;
  agent: string;
  path: string;
  bytes: number;
}

export function trafficShare(used: number, allowance: number): { percent: number | null; warning: boolean } {
  if (!allowance) return { percent: null, warning: false };
  const p = (used * 100) / allowance;
  return { percent: p, warning: p >= TRAFFIC_WARN_PERCENT };
}

export function agentView(a: AgentReply, now: number): AgentView {
  const sync: AgentSync = {
    last_batch_ms: a.sync?.last_batch_ms ?? null,
    backlog: a.sync?.backlog ?? null,
    samples: a.sync?.samples ?? 0,
    batches: a.sync?.batches ?? 0,
    rejected: a.sync?.rejected ?? 0,
    last_error: a.sync?.last_error ?? null,
  };
  const used = a.traffic_month_bytes ?? a.traffic_bytes ?? 0;
  const allowance = a.traffic_allowance && a.traffic_allowance > 0 ? a.traffic_allowance : null;
  const { percent, warning } = trafficShare(used, allowance ?? 0);
  return {
    id: String(a.id),
    name: a.name,
    online: a.online ?? false,
    sync,
    last_batch_age_ms: sync.last_batch_ms === null ? null : Math.max(0, now - sync.last_batch_ms),
    traffic_month_bytes: used,
    traffic_allowance: allowance,
    traffic_percent: percent,
    traffic_warning: warning,
  };
}

/** Raw points when no bucket holds more than one sample, else min/max bands. */
export function toSeries(buckets: Bucket[]): CloudSeries {
  const b = [...buckets].sort((x, y) => x.t_start - y.t_start);
  const s: CloudSeries = { raw: false, t: [], min: [], max: [] };
  if (b.every((x) => x.count <= 1)) {
    s.raw = true;
    for (const x of b) {
      const p = x.min ?? x.max;
      if (!p) continue;
      s.t.push(p.t);
      s.min.push(p.v ?? null);
      s.max.push(p.v ?? null);
    }
    return s;
  }
  for (const x of b) {
    s.t.push(x.t_start);
    s.min.push(x.min?.v ?? null);
    s.max.push(x.max?.v ?? null);
  }
  return s;
}

/** 1536 → "1.5 KiB" (as core::fmt::format_bytes). */
export function formatBytesBinary(b: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = b;
  let u = 0;
  while (v >= 1024 && u + 1 < units.length) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${b} B` : `${v.toFixed(1)} ${units[u]}`;
}

export function storageMeter(st: LicenceStatusReply, list: ChannelBytes[]): StorageMeter {
  const used = st.usage.storage_bytes;
  const cap = st.limits.storage_bytes;
  const percent = cap === 0 ? 0 : Math.round((used * 1000) / cap) / 10;
  const channels = [...list]
    .sort((a, b) => b.bytes - a.bytes || a.path.localeCompare(b.path))
    .slice(0, STORAGE_TOP)
    .map((c) => ({ channel: String(c.channel), agent: c.agent, path: c.path, bytes: c.bytes, bytes_text: formatBytesBinary(c.bytes) }));
  return {
    account: st.account,
    plan: st.plan,
    used_bytes: used,
    capacity_bytes: cap,
    percent,
    percent_text: used > 0 && percent < 0.1 ? "< 0.1" : percent.toFixed(1),
    over: cap > 0 && used > cap,
    used_text: formatBytesBinary(used),
    capacity_text: formatBytesBinary(cap),
    channels,
  };
}

function meView(m: MeReply): Me {
  return { account: m.account.id, user: m.user.id, name: m.user.name || null, role: m.user.role };
}

function status(): CloudStatus {
  return {
    url: location.origin,
    account: me?.account.id ?? null,
    user: me?.user.id ?? null,
    signed_in: me !== null,
    step: null,
    second_factor: null,
    me: me ? meView(me) : null,
    error: null,
  };
}

/** The browser's settings: its language (en, ja or de) and time zone. */
export function browserSettings(): UiSettings {
  const nav = (navigator.language || "en").toLowerCase();
  const lang = nav.startsWith("ja") ? "ja" : nav.startsWith("de") ? "de" : "en";
  const q = new URLSearchParams(location.search).get("lang");
  const dark = typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches;
  return {
    language: q === "ja" || q === "en" || q === "de" ? q : lang,
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
    theme: dark ? "dark" : "light",
  };
}

const agentNames = new Map<string, string>();
const enc = encodeURIComponent;

type Args = Record<string, unknown>;
export type Handler = (a: Args) => Promise<unknown>;

const handlers: Partial<Record<Command, Handler>> = {
  app_state: async (): Promise<AppState> => ({ version: "web", dataDir: "", configPath: "", demo: false, settings: browserSettings() }),
  save_settings: async (a) => a.settings,
  list_instruments: async () => [],
  channels: async () => [],
  latest: async () => [],
  series: async () => [],
  series_extent: async () => null,
  // The portal has no local channels: an empty frame (the Viewer draws the cloud's).
  series_frame: async () => encodeFrame([]),
  alarms_list: async () => [],
  notifications_unread_count: async () => 0,
  notifications_list: async () => [],
  sync_status: async () => ({ enabled: false }),
  cloud_status: async () => status(),
  cloud_sign_out: async () => {
    await apiFetch("POST", "/logout").catch(() => undefined);
    setMe(null);
    return status();
  },
  cloud_change_password: async (a) => {
    await apiFetch("POST", "/password", { current: a.current, new: a.new });
    return status();
  },
  cloud_agents: async () => {
    const list = await apiFetch<AgentReply[]>("GET", "/agents");
    const now = Date.now();
    const views = list.map((a) => agentView(a, now)).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    agentNames.clear();
    for (const v of views) agentNames.set(v.id, v.name);
    return views;
  },
  cloud_channels: async (a): Promise<CloudChannelView[]> => {
    const list = await apiFetch<ChannelReply[]>("GET", `/agents/${enc(String(a.agent))}/channels`);
    const account = me?.account.id ?? "";
    return list.map((c) => {
      const agent = String(c.agent);
      const agentName = agentNames.get(agent) ?? agent;
      const site = `${account}/${agentName}`;
      return {
        id: String(c.id),
        agent,
        agent_name: agentName,
        path: c.path,
        unit: c.unit ?? null,
        samples: c.samples ?? 0,
        t_first: c.t_first ?? null,
        t_last: c.t_last ?? null,
        label: `${site} · ${c.path}`,
        site,
      };
    });
  },
  cloud_series: async (a) => {
    const q = `from=${Number(a.from)}&to=${Number(a.to)}&buckets=${Math.min(20000, Math.max(1, Number(a.buckets)))}`;
    const r = await apiFetch<{ buckets: Bucket[] }>("GET", `/channels/${enc(String(a.channel))}/minmax?${q}`);
    return toSeries(r.buckets);
  },
  cloud_site_alarms: async (a) => apiFetch("GET", `/agents/${enc(String(a.agent))}/alarms`),
  cloud_alarm_ack: async (a) => {
    const agent = enc(String(a.agent));
    await apiFetch("POST", `/agents/${agent}/alarms/${enc(String(a.alarm))}/ack`, { comment: a.comment });
    return apiFetch("GET", `/agents/${agent}/alarms`);
  },
  cloud_storage: async () => {
    const [st, list] = await Promise.all([
      apiFetch<LicenceStatusReply>("GET", "/licence/status"),
      apiFetch<ChannelBytes[]>("GET", "/licence/storage"),
    ]);
    return storageMeter(st, list);
  },
};

/** Adds commands answered by another module of the portal (licence.ts). */
export function registerHandlers(more: Record<string, Handler>): void {
  Object.assign(handlers, more);
}

/** The portal's `Transport` (see api.ts `setTransport`). */
export function webCall(cmd: Command, args: unknown): Promise<unknown> {
  const h = handlers[cmd];
  if (!h) return Promise.reject(new Error(`${cmd} is not available in the web portal`));
  return h((args ?? {}) as Args);
}

/** The URL of the ZIP export of `channels` (ids, of any sites) over [from, to). */
export function zipUrl(channels: string[], from: number, to: number): string {
  const ids = channels.map((c) => enc(c)).join(",");
  return `/api/v1/channels/${ids}/zip?from=${Math.floor(from)}&to=${Math.ceil(to)}`;
}

/** The URL of a channel's CSV export over [from, to) (a same-origin GET: the cookie signs it). */
export function csvUrl(channel: string, from?: number, to?: number): string {
  const q = new URLSearchParams();
  if (from !== undefined) q.set("from", String(from));
  if (to !== undefined) q.set("to", String(to));
  const qs = q.toString();
  return `/api/v1/channels/${enc(channel)}/csv${qs ? `?${qs}` : ""}`;
}
