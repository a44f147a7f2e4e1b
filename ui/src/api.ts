// Typed wrappers over the Tauri commands and events of the desktop contract.
// The UI holds no business rules: it passes what the user entered and shows
// what the backend returns (including its error messages).
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

export type Lang = "en" | "ja";
export type Theme = "light" | "dark";
export type ConnState = "connecting" | "connected" | "reconnecting" | "error" | "stopped";
export type Family = "hioki-logger" | "hioki-power" | "scpi" | "modbus";
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

// ---- commands -------------------------------------------------------------

export const api = {
  appState: () => invoke<AppState>("app_state"),
  saveSettings: (settings: UiSettings) => invoke<void>("save_settings", { settings }),
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
};
