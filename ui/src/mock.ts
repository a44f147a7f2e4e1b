// Development-only stand-in for the Tauri backend, used when the page runs
// outside the desktop app (vite dev / preview, screenshots). It is loaded
// only when `window.__TAURI_INTERNALS__` is absent, as a separate chunk.
// Fixtures and the simplest state only: the backend's checks are not copied
// here (the app's answers come from meterdeck-core).
import { mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { alarmCommands, startAlarmMock } from "./mock-alarms";
import { cloudCommands, startCloudMock } from "./mock-cloud";
import type {
  AppState,
  ChannelRecord,
  EventRecord,
  InstrumentConfig,
  InstrumentView,
  LatestView,
  SeriesView,
  TableView,
} from "./api";

type Args = Record<string, unknown>;

const now = (): number => Date.now();
const state: AppState = {
  version: "0.1.0-dev",
  dataDir: "/home/operator/.local/share/meterdeck",
  configPath: "/home/operator/.config/meterdeck/agent.toml",
  demo: true,
  settings: { language: "en", timezone: "Asia/Tokyo", theme: "light" },
};

const configs: InstrumentConfig[] = [
  {
    id: "logger1",
    name: "Furnace logger",
    family: "hioki-logger",
    transport: { kind: "tcp", host: "127.0.0.1", port: 8802 },
    poll_interval: "2s",
    channel: [
      { id: "CH1_1", unit: "°C" },
      { id: "CH1_2", unit: "°C" },
      { id: "CH1_3", unit: "°C" },
      { id: "CH2_1", unit: "V" },
    ],
  },
  {
    id: "power1",
    name: "Line power",
    family: "hioki-power",
    transport: { kind: "tcp", host: "127.0.0.1", port: 3390 },
    poll_interval: "1s",
    channel: [{ id: "U1", unit: "V" }, { id: "I1", unit: "A" }, { id: "P1", unit: "W" }],
  },
  {
    id: "dmm1",
    name: "Bench DMM",
    family: "scpi",
    transport: { kind: "tcp", host: "127.0.0.1", port: 5025 },
    poll_interval: "5s",
    channel: [{ id: "VDC", unit: "V", query: "MEAS:VOLT:DC?" }],
  },
  {
    id: "plc1",
    name: "Chiller PLC",
    family: "modbus",
    transport: { kind: "serial", path: "/dev/ttyUSB0", baud: 19200 },
    poll_interval: "10s",
    channel: [{ id: "flow", unit: "L/min", modbus: { address: 0 } }, { id: "pressure", unit: "kPa", modbus: { address: 2 } }],
  },
];
const states: Record<string, InstrumentView["state"]> = { logger1: "connected", power1: "connected", dmm1: "reconnecting", plc1: "error" };
const fastUntil: Record<string, number | null> = {};
const reasons: Record<string, string | null> = { dmm1: "connection refused (127.0.0.1:5025), retrying in 8 s", plc1: "no reply within 2 s on /dev/ttyUSB0" };

const channels: ChannelRecord[] = [];
configs.forEach((c) => (c.channel ?? []).forEach((ch) => channels.push({ id: channels.length + 1, instrument: c.id, channel: ch.id, unit: ch.unit ?? null })));

function signal(id: number, t: number): number {
  const x = t / 60_000;
  const base = [0, 24, 300, 152, 2.5, 100, 1.8, 180, 3.3, 21, 250][id] ?? 10;
  return base + Math.sin(x / (7 + id)) * base * 0.08 + Math.sin(x * 3.1 + id) * base * 0.01;
}

function special(id: number, t: number): string | null {
  if (id === 3 && Math.floor(t / 1000) % 40 < 6) return "over-range";
  if (id >= 10) return "no-data";
  return null;
}

function view(id: string): InstrumentView {
  const c = configs.find((x) => x.id === id)!;
  const poll = parseFloat(c.poll_interval ?? "60");
  return {
    config: c,
    state: states[id] ?? "connecting",
    reason: reasons[id] ?? null,
    lastPoll: states[id] === "connected" ? now() - 1200 : now() - 95_000,
    identity: id === "logger1" ? { maker: "HIOKI", model: "LR8450", serial: "230512345", firmware: "V2.10" } : id === "power1" ? { maker: "HIOKI", model: "PW3390-03", serial: "221100987", firmware: "V1.31" } : null,
    compatWarning: id === "dmm1" ? "model KEITHLEY 2000 is not in the tested list" : null,
    fastUntil: fastUntil[id] ?? null,
    pollIntervalS: poll,
  };
}

function series(a: Args): SeriesView[] {
  const ids = a.channelIds as number[];
  const from = a.from as number;
  const to = a.to as number;
  const width = a.width as number;
  const start = Math.max(from, now() - 30 * 86_400_000);
  return ids.map((id) => {
    const step = 10_000;
    const n = Math.floor((to - start) / step);
    if (n <= 2 * width) {
      const t: number[] = [];
      const v: (number | null)[] = [];
      for (let k = 0; k <= n; k++) {
        const ts = start + k * step;
        t.push(ts);
        v.push(special(id, ts) ? null : signal(id, ts));
      }
      return { channelId: id, raw: true, t, min: v, max: v };
    }
    const b = (to - start) / width;
    const t: number[] = [];
    const mn: (number | null)[] = [];
    const mx: (number | null)[] = [];
    for (let k = 0; k < width; k++) {
      const ts = start + k * b;
      let lo = Infinity;
      let hi = -Infinity;
      for (let j = 0; j < 8; j++) {
        const v = signal(id, ts + (j * b) / 8) + Math.sin(ts / 977 + j) * (id === 5 ? 3 : 0.4);
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      t.push(Math.round(ts));
      mn.push(lo);
      mx.push(hi);
    }
    return { channelId: id, raw: false, t, min: mn, max: mx };
  });
}

function table(a: Args): TableView {
  const ids = a.channelIds as number[];
  const from = a.from as number;
  const to = a.to as number;
  const limit = a.limit as number;
  const rows: TableView["rows"] = [];
  for (let ts = Math.max(from, to - 3_600_000); ts <= to && rows.length < limit; ts += 10_000) {
    rows.push([ts, ids.map((id) => special(id, ts) ?? signal(id, ts).toFixed(3))]);
  }
  return { columns: ids.map((id) => { const c = channels.find((x) => x.id === id)!; return `${c.instrument}/${c.channel}${c.unit ? ` [${c.unit}]` : ""}`; }), rows, truncated: rows.length >= limit };
}

const evs: EventRecord[] = [
  { t: now() - 3_600_000, instrument: null, kind: "agent-started", message: "agent demo started (pid 4242) with 4 of 4 instruments enabled" },
  { t: now() - 3_590_000, instrument: "logger1", kind: "connected", message: "connected to HIOKI LR8450 serial 230512345 firmware V2.10" },
  { t: now() - 3_580_000, instrument: "power1", kind: "connected", message: "connected to HIOKI PW3390-03" },
  { t: now() - 1_200_000, instrument: "dmm1", kind: "disconnected", message: "connection reset by peer" },
  { t: now() - 1_190_000, instrument: "dmm1", kind: "error", message: "connection refused (127.0.0.1:5025)" },
  { t: now() - 600_000, instrument: "plc1", kind: "error", message: "no reply within 2 s on /dev/ttyUSB0" },
];
let held: { instrument: string; operator: string; since: number } | null = null;

function handle(cmd: string, a: Args): unknown {
  switch (cmd) {
    case "app_state":
      return state;
    case "save_settings":
      state.settings = a.settings as AppState["settings"];
      return null;
    case "list_instruments":
      return configs.map((c) => view(c.id));
    case "save_instrument": {
      const c = a.config as InstrumentConfig;
      const k = configs.findIndex((x) => x.id === (a.replaceId ?? c.id));
      if (k >= 0) configs[k] = c;
      else configs.push(c);
      states[c.id] ??= "connecting";
      return view(c.id);
    }
    case "remove_instrument": {
      const k = configs.findIndex((x) => x.id === a.id);
      if (k >= 0) configs.splice(k, 1);
      return null;
    }
    case "identify":
      if (states[a.id as string] !== "connected") throw `instrument \`${a.id}\` is not connected`;
      return { identity: view(a.id as string).identity, warning: null };
    case "discover_lan":
      return [
        { address: "192.168.1.20", port: 8802, family_guess: "hioki-logger", identity: { maker: "HIOKI", model: "LR8450", serial: "230599999", firmware: "V2.10" }, error: null },
        { address: "192.168.1.31", port: 5025, family_guess: "scpi", identity: { maker: "KEYSIGHT", model: "34465A", serial: "MY5900", firmware: "A.03" }, error: null },
        { address: "192.168.1.40", port: 502, family_guess: "modbus", identity: null, error: null },
      ];
    case "list_serial_ports":
      return [{ path: "/dev/ttyUSB0", kind: "usb", vid: "0403", pid: "6001", manufacturer: "FTDI", product: "FT232R USB UART", serial_number: "A50285BI" }];
    case "probe_serial":
      return [{ address: "/dev/ttyUSB0", port: null, family_guess: null, identity: null, error: "no reply to *IDN?" }];
    case "set_fast_monitor":
      fastUntil[a.id as string] = a.on ? now() + 10 * 60_000 : null;
      return fastUntil[a.id as string];
    case "latest": {
      const out: LatestView[] = [];
      for (const c of channels) {
        const connected = states[c.instrument] === "connected";
        const t = connected ? now() - 1200 : now() - 95_000;
        const sp = special(c.id, t);
        out.push({ channelId: c.id, path: `${c.instrument}/${c.channel}`, instrument: c.instrument, channel: c.channel, unit: c.unit, t, value: sp ? null : signal(c.id, t), special: sp });
      }
      return out;
    }
    case "channels":
      return channels;
    case "series":
      return series(a);
    case "series_extent":
      return (a.channelIds as number[]).length ? { from: now() - 30 * 86_400_000, to: now() } : null;
    case "table":
      return table(a);
    case "export":
      return { path: a.path, channels: (a.channelIds as number[]).length, samples: 12345, rows: 4000, bytes: 345678 };
    case "console_acquire":
      if (held && held.operator !== a.operator) throw `held by ${held.operator} since ${new Date(held.since).toISOString()}`;
      held = { instrument: a.instrument as string, operator: a.operator as string, since: now() };
      return null;
    case "console_send":
      if (!held || held.operator !== a.operator) throw "acquire the console first";
      return String(a.command).trim().toUpperCase() === "*IDN?" ? "HIOKI,LR8450,230512345,V2.10" : null;
    case "console_release":
      held = null;
      return null;
    case "events":
      return evs.filter((e) => (!a.instrument || e.instrument === a.instrument) && (!a.kind || e.kind === a.kind)).slice().reverse();
    default:
      if (cmd in alarmCommands) return alarmCommands[cmd](a);
      if (cmd in cloudCommands) return cloudCommands[cmd](a);
      throw `unknown command ${cmd}`;
  }
}

export function installMock(): void {
  const q = new URLSearchParams(location.search);
  if (q.get("lang") === "ja") state.settings.language = "ja";
  if (q.get("theme") === "dark") state.settings.theme = "dark";
  startCloudMock(q);
  mockIPC((cmd, payload) => handle(cmd, (payload ?? {}) as Args), { shouldMockEvents: true });
  startAlarmMock({
    addChannel: (instrument, channel, unit) => {
      if (!channels.some((c) => c.instrument === instrument && c.channel === channel)) channels.push({ id: Math.max(0, ...channels.map((c) => c.id)) + 1, instrument, channel, unit });
    },
    removeChannel: (instrument, channel) => {
      const k = channels.findIndex((c) => c.instrument === instrument && c.channel === channel);
      if (k >= 0) channels.splice(k, 1);
    },
  });
  setInterval(() => {
    for (const c of configs) {
      if (states[c.id] !== "connected") continue;
      const t = now();
      const values = channels
        .filter((ch) => ch.instrument === c.id)
        .map((ch) => {
          const sp = special(ch.id, t);
          return { channel: ch.channel, unit: ch.unit, value: sp ? { special: sp } : { number: signal(ch.id, t) } };
        });
      void emit("live", { type: "readings", instrument: c.id, t, values });
    }
  }, 2000);
}
