// Typed wrappers over the Tauri commands and events of the desktop contract.
// The UI holds no business rules: it passes what the user entered and shows
// what the backend returns (including its error messages).
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { FamilyInfo } from "./families";

export type Lang = "en" | "ja";
export type Theme = "light" | "dark";
export type ConnState = "connecting" | "connected" | "reconnecting" | "error" | "stopped";
/** A registered family's id; the list comes from the `families` command (see families.ts). */
export type Family = string;
export type SpecialKind = "no-data" | "over-range" | "under-range" | "burn-out" | "invalid";

export interface UiSettings {
  language: Lang;
  timezone: string;
  theme: Theme;
}

export interface AppState {
  version: string;
  dataDir: string;
  configPath: string;
  demo: boolean;
  settings: UiSettings;
}

export interface ModbusRegister {
  address: number;
  kind?: string;
  data_type?: string;
  word_order?: string;
}

/** serde JSON of meterdeck_drivers::ChannelConfig */
export interface ChannelConfig {
  id: string;
  unit?: string | null;
  query?: string | null;
  modbus?: ModbusRegister | null;
  scale?: number;
  offset?: number;
}

export type TransportConfig =
  | { kind: "tcp"; host: string; port?: number | null; timeout?: string }
  | {
      kind: "serial";
      path: string;
      baud?: number;
      data_bits?: number;
      parity?: string;
      stop_bits?: number;
      timeout?: string;
    };

/** serde JSON of meterdeck_drivers::InstrumentConfig (snake_case fields, `channel` list). */
export interface InstrumentConfig {
  id: string;
  name?: string | null;
  family: Family;
  transport: TransportConfig;
  terminator?: string;
  unit_id?: number;
  sentinels?: number[];
  /** humantime string, e.g. "5s" */
  poll_interval?: string | null;
  enabled?: boolean;
  set_clock_on_connect?: boolean;
  start_on_connect?: boolean;
  channel?: ChannelConfig[];
}

export interface Identity {
  maker: string;
  model: string;
  serial: string;
  firmware: string;
}

export interface InstrumentView {
  config: InstrumentConfig;
  state: ConnState;
  reason: string | null;
  lastPoll: number | null;
  identity: Identity | null;
  compatWarning: string | null;
  fastUntil: number | null;
  pollIntervalS: number;
}

export interface IdentifyView {
  identity: Identity;
  warning: string | null;
}

export interface Found {
  address: string;
  port: number | null;
  family_guess: Family | null;
  identity: Identity | null;
  error: string | null;
}

export interface SerialPortInfo {
  path: string;
  kind: string;
  vid: string | null;
  pid: string | null;
  manufacturer: string | null;
  product: string | null;
  serial_number: string | null;
}

export interface LatestView {
  channelId: number;
  path: string;
  instrument: string;
  channel: string;
  unit: string | null;
  t: number | null;
  value: number | null;
  special: string | null;
}

export interface ChannelRecord {
  id: number;
  instrument: string;
  channel: string;
  unit: string | null;
}

/** `[from, to)` in ms. */
export interface TimeRange {
  from: number;
  to: number;
}

export interface SeriesView {
  channelId: number;
  raw: boolean;
  t: number[];
  min: (number | null)[];
  max: (number | null)[];
}

export interface TableView {
  columns: string[];
  rows: [number, (string | null)[]][];
  truncated: boolean;
}

export interface ExportSummary {
  path: string;
  channels?: number;
  samples?: number;
  rows?: number;
  bytes?: number;
}

export interface ExportProgress {
  done: number;
  total: number;
}

export interface EventRecord {
  t: number;
  instrument: string | null;
  kind: string;
  message: string;
}


// ---- alarms, calculation channels, destinations, journal, notifications ----
// Shapes of the issue-4 contract (snake_case keys, as in the TOML).

export type Severity = "critical" | "high" | "medium" | "low";
export type AlarmKind = "threshold" | "connection" | "special" | "storage";
export type CompareOp = ">" | ">=" | "<=" | "<" | "outside_incl" | "outside_excl";
export type Combine = "and" | "or";
export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";
export type DestinationKind = "desktop" | "email" | "webhook";
export type JournalAction =
  | "raise"
  | "return"
  | "ack"
  | "shelve"
  | "unshelve"
  | "out_of_service"
  | "in_service"
  | "reminder"
  | "notify_ok"
  | "notify_failed"
  | "notify_retry";

export interface AckInfo {
  user: string;
  comment: string;
  t: number;
}

export interface AlarmView {
  alarm_id: string;
  rule_id: string;
  name: string;
  severity: Severity;
  kind: AlarmKind;
  active: boolean;
  acked: boolean;
  shelved_until: number | null;
  out_of_service: boolean;
  /** last state change */
  since: number;
  raised_at: number | null;
  value: string | null;
  message: string | null;
  ack: AckInfo | null;
}

export interface SecondCondition {
  channel: string;
  op: CompareOp;
  value?: number | null;
  low?: number | null;
  high?: number | null;
  combine?: Combine | null;
}

export interface TimeWindow {
  days?: Weekday[] | null;
  from?: string | null;
  to?: string | null;
  tz?: string | null;
}

/** One [[alarm]] table. Numbers are typed as numbers; what the user typed
 * that is not a number is passed through for the backend to name. */
export interface Rule {
  id: string;
  name?: string | null;
  enabled?: boolean | null;
  severity?: Severity | null;
  kind: AlarmKind;
  channel?: string | null;
  op?: CompareOp | null;
  value?: number | null;
  low?: number | null;
  high?: number | null;
  deadband?: number | null;
  second?: SecondCondition | null;
  instrument?: string | null;
  specials?: SpecialKind[] | null;
  below?: string | null;
  filter?: string | null;
  window?: TimeWindow | null;
  notify_on_return?: boolean | null;
  destinations?: string[] | null;
  reminder?: string | null;
  message?: string | null;
}

/** One [[calc]] table; stored as channel "calc/<id>". */
export interface Calc {
  id: string;
  name?: string | null;
  unit?: string | null;
  expr: string;
  /** variable name -> channel path "instrument/channel" */
  inputs: Record<string, string>;
  tolerance?: string | null;
}

/** One [[destination]] table. Secrets (SMTP password, webhook URL) are never part of it. */
export interface Destination {
  id: string;
  kind: DestinationKind;
  name?: string | null;
  host?: string | null;
  port?: number | null;
  security?: "tls" | "starttls" | "none" | null;
  username?: string | null;
  from?: string | null;
  to?: string[] | null;
  format?: "slack" | "teams" | "json" | null;
}

export interface DestinationView extends Destination {
  has_secret: boolean;
}

/** A validation failure naming the field (dotted path, e.g. "second.value"). */
export interface FieldError {
  field: string | null;
  message: string;
  /** calc_check: 1-based column in `expr` */
  position?: number | null;
}

export interface JournalEntry {
  id: number;
  t: number;
  alarm_id: string;
  rule_id: string;
  name: string;
  action: JournalAction;
  from_state: string;
  to_state: string;
  user: string | null;
  comment: string | null;
  values: string | null;
  severity: Severity;
}

export interface JournalQuery {
  from?: number | null;
  to?: number | null;
  alarmId?: string | null;
  action?: JournalAction | null;
  limit?: number | null;
}

export interface Note {
  id: string;
  t: number;
  kind: "alarm" | "system";
  severity: Severity | null;
  title: string;
  body: string;
  read: boolean;
  alarm_id: string | null;
}

// ---- cloud account (issue 5) ----------------------------------------------
// Shapes of meterdeck_core::cloudlink (snake_case keys); the backend derives
// every figure (traffic share, warning, ages, labels).

export interface CloudMe {
  account: string;
  user: string;
  name: string | null;
  role: string;
}

export interface CloudStatus {
  url: string | null;
  account: string | null;
  user: string | null;
  signed_in: boolean;
  /** The sign-in step still to do. */
  step: "code" | "password" | null;
  /** With step `code`: where the code comes from. */
  second_factor: "email" | "totp" | null;
  me: CloudMe | null;
  /** Signed in, but the service could not be asked. */
  error: string | null;
}

export interface CloudAgentSync {
  last_batch_ms: number | null;
  backlog: number | null;
  samples: number;
  batches: number;
  rejected: number;
  last_error: string | null;
}

export interface CloudAgent {
  id: string;
  name: string;
  online: boolean;
  sync: CloudAgentSync;
  last_batch_age_ms: number | null;
  traffic_month_bytes: number;
  traffic_allowance: number | null;
  traffic_percent: number | null;
  traffic_warning: boolean;
}

export interface CloudChannel {
  id: string;
  agent: string;
  agent_name: string;
  path: string;
  unit: string | null;
  samples: number;
  t_first: number | null;
  t_last: number | null;
  /** `account/agent · path` */
  label: string;
  /** `account/agent` */
  site: string;
}

/** A cloud channel's series in the Viewer's shape (without a local channel id). */
export interface CloudSeries {
  raw: boolean;
  t: number[];
  min: (number | null)[];
  max: (number | null)[];
}

/** This agent's own store-and-forward state. */
export interface SyncStatus {
  enabled: boolean;
  connected: boolean;
  agent: string | null;
  broker: string | null;
  backlog_samples: number;
  backlog_batches: number;
  oldest_ms: number | null;
  last_ack_ms: number | null;
  month: string;
  month_bytes: number;
  allowance_bytes: number;
  last_error: string | null;
}

/** Optional command arguments are left out rather than sent empty. */
export function compact<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === null || v === "") continue;
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

// ---- commands -------------------------------------------------------------

export const api = {
  appState: () => invoke<AppState>("app_state"),
  saveSettings: (settings: UiSettings) => invoke<void>("save_settings", { settings }),
  families: () => invoke<FamilyInfo[]>("families"),
  listInstruments: () => invoke<InstrumentView[]>("list_instruments"),
  saveInstrument: (config: InstrumentConfig, replaceId: string | null) =>
    invoke<InstrumentView>("save_instrument", { config, replaceId }),
  removeInstrument: (id: string) => invoke<void>("remove_instrument", { id }),
  identify: (id: string) => invoke<IdentifyView>("identify", { id }),
  discoverLan: (hosts: string, ports: number[], timeoutMs: number) =>
    invoke<Found[]>("discover_lan", { hosts, ports, timeoutMs }),
  listSerialPorts: () => invoke<SerialPortInfo[]>("list_serial_ports"),
  probeSerial: (paths: string[], baud: number) => invoke<Found[]>("probe_serial", { paths, baud }),
  setFastMonitor: (id: string, on: boolean) => invoke<number | null>("set_fast_monitor", { id, on }),
  latest: () => invoke<LatestView[]>("latest"),
  channels: () => invoke<ChannelRecord[]>("channels"),
  series: (channelIds: number[], from: number, to: number, width: number) =>
    invoke<SeriesView[]>("series", { channelIds, from, to, width: Math.max(1, Math.round(width)) }),
  seriesExtent: (channelIds: number[]) => invoke<TimeRange | null>("series_extent", { channelIds }),
  table: (channelIds: number[], from: number, to: number, limit: number) =>
    invoke<TableView>("table", { channelIds, from, to, limit }),
  exportData: (channelIds: number[], from: number, to: number, path: string) =>
    invoke<ExportSummary>("export", { channelIds, from, to, path }),
  consoleAcquire: (instrument: string, operator: string) =>
    invoke<void>("console_acquire", { instrument, operator }),
  consoleSend: (instrument: string, operator: string, command: string) =>
    invoke<string | null>("console_send", { instrument, operator, command }),
  consoleRelease: (instrument: string, operator: string) =>
    invoke<void>("console_release", { instrument, operator }),
  events: (instrument: string | null, kind: string | null, limit: number) =>
    invoke<EventRecord[]>("events", { instrument, kind, limit }),

  alarmsList: () => invoke<AlarmView[]>("alarms_list"),
  alarmAck: (alarmId: string, user: string, comment: string) => invoke<void>("alarm_ack", { alarmId, user, comment }),
  alarmShelve: (alarmId: string, minutes: number, user: string, comment: string) =>
    invoke<void>("alarm_shelve", { alarmId, minutes, user, comment }),
  alarmUnshelve: (alarmId: string, user: string) => invoke<void>("alarm_unshelve", { alarmId, user }),
  alarmOutOfService: (alarmId: string, on: boolean, user: string, comment: string) =>
    invoke<void>("alarm_out_of_service", { alarmId, on, user, comment }),

  rulesList: () => invoke<Rule[]>("rules_list"),
  ruleCheck: (rule: Rule) => invoke<FieldError | null>("rule_check", { rule }),
  ruleSave: (rule: Rule) => invoke<void>("rule_save", { rule }),
  ruleDelete: (id: string) => invoke<void>("rule_delete", { id }),
  ruleSetEnabled: (id: string, enabled: boolean) => invoke<void>("rule_set_enabled", { id, enabled }),

  calcsList: () => invoke<Calc[]>("calcs_list"),
  calcCheck: (calc: Calc) => invoke<FieldError | null>("calc_check", { calc }),
  calcSave: (calc: Calc) => invoke<void>("calc_save", { calc }),
  calcDelete: (id: string) => invoke<void>("calc_delete", { id }),

  destinationsList: () => invoke<DestinationView[]>("destinations_list"),
  /** The secret goes to the keychain; it is sent only when the user typed one. */
  destinationSave: (destination: Destination, secret?: string | null) =>
    invoke<void>("destination_save", secret ? { destination, secret } : { destination }),
  destinationDelete: (id: string) => invoke<void>("destination_delete", { id }),
  /** null when the test message went out; an error string otherwise (or a rejection). */
  destinationTest: (id: string) => invoke<string | null>("destination_test", { id }),

  journalQuery: (q: JournalQuery) => invoke<JournalEntry[]>("journal_query", compact(q)),

  notificationsList: (unreadOnly: boolean, limit?: number) =>
    invoke<Note[]>("notifications_list", limit === undefined ? { unreadOnly } : { unreadOnly, limit }),
  notificationsUnreadCount: () => invoke<number>("notifications_unread_count"),
  notificationMarkRead: (id: string) => invoke<void>("notification_mark_read", { id }),
  notificationsMarkAllRead: () => invoke<void>("notifications_mark_all_read"),

  cloudStatus: () => invoke<CloudStatus>("cloud_status"),
  /** The password goes to the backend once; nothing keeps it. */
  cloudSignIn: (url: string, account: string, user: string, password: string) =>
    invoke<CloudStatus>("cloud_sign_in", { url, account, user, password }),
  cloudCode: (code: string) => invoke<CloudStatus>("cloud_code", { code }),
  cloudChangePassword: (current: string, next: string) =>
    invoke<CloudStatus>("cloud_change_password", { current, new: next }),
  cloudSignOut: () => invoke<CloudStatus>("cloud_sign_out"),
  cloudAgents: () => invoke<CloudAgent[]>("cloud_agents"),
  cloudChannels: (agent: string) => invoke<CloudChannel[]>("cloud_channels", { agent }),
  cloudSeries: (channel: string, from: number, to: number, buckets: number) =>
    invoke<CloudSeries>("cloud_series", { channel, from, to, buckets: Math.max(1, Math.round(buckets)) }),
  syncStatus: () => invoke<SyncStatus>("sync_status"),
};

/** Tauri rejects with the command's `Err(String)`; make it a message. */
export function errorText(e: unknown): string {
  if (typeof e === "string") return e;
  if (e instanceof Error) return e.message;
  if (e && typeof e === "object" && "message" in e) return String((e as { message: unknown }).message);
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}

// ---- events ---------------------------------------------------------------

export interface LiveReading {
  channel: string;
  unit: string | null;
  value: number | null;
  special: string | null;
}

/** A normalised `live` event. */
export type LiveEvent =
  | { type: "readings"; instrument: string; t: number; values: LiveReading[] }
  | { type: "state"; instrument: string; state: ConnState; reason: string | null }
  | { type: "event"; event: EventRecord }
  | { type: "fast-monitor"; instrument: string; until: number | null }
  | { type: "unknown" };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** A refusal as a field error: `{field, message}` objects (also as JSON text)
 * pass through; anything else becomes a message without a field. */
export function fieldError(e: unknown): FieldError {
  let v: unknown = e;
  if (typeof v === "string" && v.trim().startsWith("{")) {
    try {
      v = JSON.parse(v);
    } catch {
      /* plain text */
    }
  }
  if (isObj(v) && typeof v.message === "string") {
    const position = num(v.position);
    return position === null ? { field: str(v.field), message: v.message } : { field: str(v.field), message: v.message, position };
  }
  return { field: null, message: errorText(e) };
}

/** A channel value as serde writes meterdeck's `Value` (`{"number": 1.5}` /
 * `{"special": "over-range"}`), or already flattened (`value` + `special`). */
export function parseValue(v: Obj): { value: number | null; special: string | null } {
  const raw = v.value;
  if (isObj(raw)) {
    if ("number" in raw) return { value: num(raw.number), special: null };
    if ("Number" in raw) return { value: num(raw.Number), special: null };
    if ("special" in raw) return { value: null, special: str(raw.special) };
    if ("Special" in raw) return { value: null, special: str(raw.Special) };
  }
  return { value: num(raw), special: str(v.special) };
}

/** Accepts the agent's LiveUpdate as serde would write it: internally tagged
 * (`type`/`kind`) or externally tagged (`{"Readings": {...}}`). */
export function parseLive(payload: unknown): LiveEvent {
  if (!isObj(payload)) return { type: "unknown" };
  let tag = str(payload.type) ?? str(payload.kind);
  let body: Obj = payload;
  if (!tag || !["readings", "state", "event", "fast-monitor", "fastmonitor", "fast_monitor"].includes(tag.toLowerCase())) {
    const keys = Object.keys(payload);
    if (keys.length === 1 && isObj(payload[keys[0]])) {
      tag = keys[0];
      body = payload[keys[0]] as Obj;
    }
  }
  const k = (tag ?? "").toLowerCase().replace(/[-_]/g, "");
  switch (k) {
    case "readings": {
      const values = Array.isArray(body.values) ? body.values : Array.isArray(body.readings) ? body.readings : [];
      return {
        type: "readings",
        instrument: str(body.instrument) ?? "",
        t: num(body.t) ?? Date.now(),
        values: values.filter(isObj).map((v) => ({
          channel: str(v.channel) ?? "",
          unit: str(v.unit),
          ...parseValue(v),
        })),
      };
    }
    case "state":
      return {
        type: "state",
        instrument: str(body.instrument) ?? "",
        state: (str(body.state) ?? "error") as ConnState,
        reason: str(body.reason),
      };
    case "event": {
      const ev = isObj(body.event) ? body.event : body;
      return {
        type: "event",
        event: {
          t: num(ev.t) ?? Date.now(),
          instrument: str(ev.instrument),
          kind: str(ev.kind) ?? "",
          message: str(ev.message) ?? "",
        },
      };
    }
    case "fastmonitor":
      return { type: "fast-monitor", instrument: str(body.instrument) ?? "", until: num(body.until) };
    default:
      return { type: "unknown" };
  }
}

export interface InstrumentStateEvent {
  instrument: string;
  state: ConnState;
  reason: string | null;
}

export function parseInstrumentState(payload: unknown): InstrumentStateEvent | null {
  const l = parseLive(payload);
  if (l.type === "state") return { instrument: l.instrument, state: l.state, reason: l.reason };
  if (isObj(payload) && str(payload.instrument) && str(payload.state)) {
    return {
      instrument: str(payload.instrument) ?? "",
      state: str(payload.state) as ConnState,
      reason: str(payload.reason),
    };
  }
  return null;
}

export const events = {
  live: (cb: (e: LiveEvent) => void): Promise<UnlistenFn> => listen<unknown>("live", (e) => cb(parseLive(e.payload))),
  instrumentState: (cb: (e: InstrumentStateEvent) => void): Promise<UnlistenFn> =>
    listen<unknown>("instrument-state", (e) => {
      const s = parseInstrumentState(e.payload);
      if (s) cb(s);
    }),
  exportProgress: (cb: (p: ExportProgress) => void): Promise<UnlistenFn> =>
    listen<ExportProgress>("export-progress", (e) => cb(e.payload)),
  /** An AlarmView on every change of an alarm. */
  alarm: (cb: (a: AlarmView) => void): Promise<UnlistenFn> =>
    listen<unknown>("alarm", (e) => {
      if (isObj(e.payload) && typeof e.payload.alarm_id === "string") cb(e.payload as unknown as AlarmView);
    }),
  /** Every new system or alarm notification. */
  notification: (cb: (n: Note) => void): Promise<UnlistenFn> =>
    listen<unknown>("notification", (e) => {
      if (isObj(e.payload) && "id" in e.payload) cb(e.payload as unknown as Note);
    }),
};
