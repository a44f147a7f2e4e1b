// Development-only stand-in for the issue-4 commands (alarms, rules, calcs,
// destinations, journal, notifications). Loaded with src/mock.ts only. It
// holds fixtures and the simplest state: every check, save refusal and
// message comes from meterdeck-core in the app, never from here (rule_check
// and calc_check answer "valid"; the real checks are tested in Rust).
import { emit } from "@tauri-apps/api/event";
import type {
  AlarmView,
  Calc,
  Destination,
  DestinationView,
  JournalAction,
  JournalEntry,
  Note,
  Rule,
} from "./api";
import { sortAlarms, sortNotes } from "./alarmfmt";

type Args = Record<string, unknown>;
export interface MockEnv {
  addChannel(instrument: string, channel: string, unit: string | null): void;
  removeChannel(instrument: string, channel: string): void;
}

const now = (): number => Date.now();
const MIN = 60_000;

const rules: Rule[] = [
  {
    id: "furnace-band",
    name: "Furnace out of band",
    severity: "critical",
    kind: "threshold",
    channel: "logger1/CH1_2",
    op: "outside_incl",
    low: 100,
    high: 320,
    deadband: 2,
    second: { channel: "logger1/CH2_1", op: "<", value: 1, combine: "or" },
    filter: "10s",
    window: { days: ["mon", "tue", "wed", "thu", "fri"], from: "06:00", to: "22:00", tz: "Asia/Tokyo" },
    notify_on_return: true,
    destinations: ["desk", "ops-mail"],
    reminder: "15m",
    message: "Check the burner and the thermocouple wiring",
  },
  { id: "boiler-hot", name: "Boiler too hot", severity: "high", kind: "threshold", channel: "logger1/CH1_1", op: ">", value: 80, deadband: 0.5, destinations: ["desk"], message: "Check the burner" },
  { id: "plc-link", name: "Chiller PLC link", severity: "medium", kind: "connection", instrument: "plc1", destinations: ["desk", "ops-slack"] },
  { id: "logger-specials", name: "Logger CH1_3 over-range", severity: "low", kind: "special", channel: "logger1/CH1_3", specials: ["over-range"] },
  { id: "line-overload", name: "Line overload", severity: "high", kind: "threshold", channel: "power1/P1", op: ">=", value: 3000, filter: "5s" },
  { id: "disk-low", name: "Data disk almost full", enabled: false, severity: "medium", kind: "storage", below: "5GB" },
];

const alarms: AlarmView[] = [
  { alarm_id: "furnace-band", rule_id: "furnace-band", name: "Furnace out of band", severity: "critical", kind: "threshold", active: true, acked: false, shelved_until: null, out_of_service: false, since: now() - 2 * MIN, raised_at: now() - 2 * MIN, value: "338.2 °C", message: "Check the burner and the thermocouple wiring", ack: null },
  { alarm_id: "boiler-hot", rule_id: "boiler-hot", name: "Boiler too hot", severity: "high", kind: "threshold", active: false, acked: false, shelved_until: null, out_of_service: false, since: now() - 5 * MIN, raised_at: now() - 25 * MIN, value: "81.4 °C", message: "Check the burner", ack: null },
  { alarm_id: "plc-link/plc1", rule_id: "plc-link", name: "Chiller PLC link", severity: "medium", kind: "connection", active: true, acked: true, shelved_until: null, out_of_service: false, since: now() - 38 * MIN, raised_at: now() - 41 * MIN, value: null, message: "no reply within 2 s on /dev/ttyUSB0", ack: { user: "tanaka", comment: "serial cable being replaced", t: now() - 38 * MIN } },
  { alarm_id: "logger-specials", rule_id: "logger-specials", name: "Logger CH1_3 over-range", severity: "low", kind: "special", active: true, acked: true, shelved_until: now() + 50 * MIN, out_of_service: false, since: now() - 10 * MIN, raised_at: now() - 70 * MIN, value: "over-range", message: null, ack: { user: "tanaka", comment: "", t: now() - 65 * MIN } },
  { alarm_id: "line-overload", rule_id: "line-overload", name: "Line overload", severity: "high", kind: "threshold", active: false, acked: true, shelved_until: null, out_of_service: true, since: now() - 3 * 60 * MIN, raised_at: null, value: null, message: null, ack: null },
];

const calcs: Calc[] = [
  { id: "total_power", name: "Total power", unit: "W", expr: "(A + B) * 2 - SQR(C)", inputs: { A: "power1/P1", B: "power1/P1", C: "logger1/CH1_1" }, tolerance: "2s" },
  { id: "delta_t", name: "Furnace ΔT", unit: "°C", expr: "A - B", inputs: { A: "logger1/CH1_2", B: "logger1/CH1_1" } },
];

const dests: DestinationView[] = [
  { id: "desk", kind: "desktop", name: "This computer", has_secret: false },
  { id: "ops-mail", kind: "email", name: "Operations mail", host: "smtp.example.com", port: 587, security: "starttls", username: "alarms@example.com", from: "Meterdeck <alarms@example.com>", to: ["ops@example.com"], has_secret: true },
  { id: "ops-slack", kind: "webhook", name: "Ops Slack", format: "slack", has_secret: false },
];

/** How a test message to these fixtures fails (as the app would say it). */
const testFailures: Record<string, string> = {
  "ops-mail": "SMTP smtp.example.com:587: connection timed out after 10 s",
  "ops-slack": "no URL stored in keychain for webhook:ops-slack",
};

let journalId = 0;
const journal: JournalEntry[] = [];
function log(a: AlarmView, action: JournalAction, from: string, to: string, user: string | null = null, comment: string | null = null, t = now()): void {
  journal.push({ id: ++journalId, t, alarm_id: a.alarm_id, rule_id: a.rule_id, name: a.name, action, from_state: from, to_state: to, user, comment: comment || null, values: a.value, severity: a.severity });
}

let noteId = 0;
const notes: Note[] = [];
function note(n: Omit<Note, "id" | "read"> & { read?: boolean }, announce = true): void {
  const full: Note = { read: false, ...n, id: String(++noteId) };
  notes.push(full);
  if (announce) void emit("notification", full);
}

function stateName(a: AlarmView): string {
  if (a.out_of_service) return "out_of_service";
  if (a.shelved_until !== null) return "shelved";
  if (a.active) return a.acked ? "acked" : "unacked";
  return a.acked ? "normal" : "rtn_unack";
}

// a plausible history
(() => {
  const [furnace, boiler, plc, specials] = alarms;
  log(specials, "raise", "normal", "unacked", null, null, now() - 70 * MIN);
  log(specials, "ack", "unacked", "acked", "tanaka", null, now() - 65 * MIN);
  log(plc, "raise", "normal", "unacked", null, null, now() - 41 * MIN);
  log(plc, "notify_failed", "unacked", "unacked", null, "ops-slack: no URL stored in keychain for webhook:ops-slack", now() - 41 * MIN + 2000);
  log(plc, "notify_ok", "unacked", "unacked", null, "desk", now() - 41 * MIN + 1000);
  log(plc, "ack", "unacked", "acked", "tanaka", "serial cable being replaced", now() - 38 * MIN);
  log(boiler, "raise", "normal", "unacked", null, null, now() - 25 * MIN);
  log(boiler, "notify_ok", "unacked", "unacked", null, "desk", now() - 25 * MIN + 800);
  log(specials, "shelve", "acked", "shelved", "tanaka", "known sensor issue, fix scheduled", now() - 10 * MIN);
  log(boiler, "return", "unacked", "rtn_unack", null, null, now() - 5 * MIN);
  log(furnace, "raise", "normal", "unacked", null, null, now() - 2 * MIN);
  log(furnace, "notify_ok", "unacked", "unacked", null, "desk, ops-mail", now() - 2 * MIN + 1500);
  note({ t: now() - 3 * 3600_000, kind: "system", severity: null, title: "Agent started", body: "4 of 4 instruments enabled", alarm_id: null, read: true }, false);
  note({ t: now() - 70 * MIN, kind: "alarm", severity: "low", title: "Logger CH1_3 over-range", body: "raised: over-range", alarm_id: "logger-specials", read: true }, false);
  note({ t: now() - 41 * MIN, kind: "alarm", severity: "medium", title: "Chiller PLC link", body: "raised: no reply within 2 s on /dev/ttyUSB0", alarm_id: "plc-link/plc1", read: true }, false);
  note({ t: now() - 41 * MIN + 2000, kind: "system", severity: null, title: "Notification failed", body: "ops-slack: no URL stored in keychain for webhook:ops-slack", alarm_id: null }, false);
  note({ t: now() - 25 * MIN, kind: "alarm", severity: "high", title: "Boiler too hot", body: "raised: 81.4 °C — Check the burner", alarm_id: "boiler-hot" }, false);
  note({ t: now() - 5 * MIN, kind: "alarm", severity: "high", title: "Boiler too hot", body: "returned", alarm_id: "boiler-hot", read: true }, false);
  note({ t: now() - 2 * MIN, kind: "alarm", severity: "critical", title: "Furnace out of band", body: "raised: 338.2 °C — Check the burner and the thermocouple wiring", alarm_id: "furnace-band" }, false);
})();

// ---- alarm actions ------------------------------------------------------------

function findAlarm(id: unknown): AlarmView {
  const a = alarms.find((x) => x.alarm_id === id);
  if (!a) throw `unknown alarm "${String(id)}"`;
  return a;
}
function changed(a: AlarmView): void {
  a.since = now();
  void emit("alarm", { ...a });
  // returned and acknowledged: back to normal, off the list
  if (!a.active && a.acked && a.shelved_until === null && !a.out_of_service) alarms.splice(alarms.indexOf(a), 1);
}

let env: MockEnv;

export const alarmCommands: Record<string, (a: Args) => unknown> = {
  alarms_list: () => sortAlarms(alarms),
  alarm_ack: (a) => {
    const al = findAlarm(a.alarmId);
    const user = String(a.user);
    const from = stateName(al);
    al.acked = true;
    al.ack = { user, comment: String(a.comment ?? ""), t: now() };
    log(al, "ack", from, stateName(al), user, String(a.comment ?? ""));
    changed(al);
    return null;
  },
  alarm_shelve: (a) => {
    const al = findAlarm(a.alarmId);
    const user = String(a.user);
    const from = stateName(al);
    al.shelved_until = now() + Number(a.minutes) * MIN;
    log(al, "shelve", from, stateName(al), user, String(a.comment ?? ""));
    changed(al);
    return null;
  },
  alarm_unshelve: (a) => {
    const al = findAlarm(a.alarmId);
    const user = String(a.user);
    const from = stateName(al);
    al.shelved_until = null;
    log(al, "unshelve", from, stateName(al), user);
    changed(al);
    return null;
  },
  alarm_out_of_service: (a) => {
    const al = findAlarm(a.alarmId);
    const user = String(a.user);
    const on = Boolean(a.on);
    const from = stateName(al);
    al.out_of_service = on;
    log(al, on ? "out_of_service" : "in_service", from, stateName(al), user, String(a.comment ?? ""));
    changed(al);
    return null;
  },

  rules_list: () => structuredClone(rules),
  rule_check: () => null,
  rule_save: (a) => {
    const r = a.rule as Rule;
    const k = rules.findIndex((x) => x.id === r.id);
    if (k >= 0) rules[k] = r;
    else rules.push(r);
    return null;
  },
  rule_delete: (a) => {
    const k = rules.findIndex((x) => x.id === a.id);
    if (k < 0) throw `unknown rule "${String(a.id)}"`;
    rules.splice(k, 1);
    return null;
  },
  rule_set_enabled: (a) => {
    const r = rules.find((x) => x.id === a.id);
    if (!r) throw `unknown rule "${String(a.id)}"`;
    r.enabled = Boolean(a.enabled);
    return null;
  },

  calcs_list: () => structuredClone(calcs),
  calc_check: () => null,
  calc_save: (a) => {
    const c = a.calc as Calc;
    const k = calcs.findIndex((x) => x.id === c.id);
    if (k >= 0) calcs[k] = c;
    else {
      calcs.push(c);
      env.addChannel("calc", c.id, c.unit ?? null);
    }
    return null;
  },
  calc_delete: (a) => {
    const k = calcs.findIndex((x) => x.id === a.id);
    if (k < 0) throw `unknown calculation "${String(a.id)}"`;
    calcs.splice(k, 1);
    env.removeChannel("calc", String(a.id));
    return null;
  },

  destinations_list: () => structuredClone(dests),
  destination_save: (a) => {
    const d = a.destination as Destination;
    const secret = typeof a.secret === "string" ? a.secret : undefined;
    const k = dests.findIndex((x) => x.id === d.id);
    const had = k >= 0 && dests[k].kind === d.kind && dests[k].has_secret;
    const v: DestinationView = { ...d, has_secret: d.kind !== "desktop" && (had || Boolean(secret)) };
    if (k >= 0) dests[k] = v;
    else dests.push(v);
    return null;
  },
  destination_delete: (a) => {
    const k = dests.findIndex((x) => x.id === a.id);
    if (k < 0) throw `unknown destination "${String(a.id)}"`;
    dests.splice(k, 1);
    return null;
  },
  destination_test: (a) => {
    const failure = testFailures[String(a.id)];
    if (failure) throw failure;
    return null;
  },

  journal_query: (a) => {
    const limit = typeof a.limit === "number" ? a.limit : 1000;
    return journal
      .filter((e) => (a.from === undefined || e.t >= (a.from as number)) && (a.to === undefined || e.t <= (a.to as number)))
      .filter((e) => !a.alarmId || e.alarm_id === a.alarmId || e.rule_id === a.alarmId)
      .filter((e) => !a.action || e.action === a.action)
      .sort((x, y) => y.t - x.t || y.id - x.id)
      .slice(0, limit);
  },

  notifications_list: (a) => {
    const limit = typeof a.limit === "number" ? a.limit : 500;
    return sortNotes(notes.filter((n) => !a.unreadOnly || !n.read)).slice(0, limit);
  },
  notifications_unread_count: () => notes.filter((n) => !n.read).length,
  notification_mark_read: (a) => {
    const n = notes.find((x) => x.id === a.id);
    if (!n) throw `unknown notification ${String(a.id)}`;
    n.read = true;
    return null;
  },
  notifications_mark_all_read: () => {
    for (const n of notes) n.read = true;
    return null;
  },
};

/** The boiler alarm comes and goes, with its notifications, so the live paths can be seen. */
export function startAlarmMock(e: MockEnv): void {
  env = e;
  for (const c of calcs) env.addChannel("calc", c.id, c.unit ?? null);
  let tick = 0;
  setInterval(() => {
    tick++;
    const rule = rules.find((r) => r.id === "boiler-hot");
    if (!rule || rule.enabled === false) return;
    let al = alarms.find((x) => x.alarm_id === "boiler-hot");
    if (!al || !al.active) {
      if (!al) {
        al = { alarm_id: "boiler-hot", rule_id: "boiler-hot", name: rule.name ?? rule.id, severity: rule.severity ?? "medium", kind: "threshold", active: false, acked: true, shelved_until: null, out_of_service: false, since: now(), raised_at: null, value: null, message: rule.message ?? null, ack: null };
        alarms.push(al);
      }
      const from = stateName(al);
      al.active = true;
      al.acked = false;
      al.ack = null;
      al.raised_at = now();
      al.value = `${(80.5 + Math.random() * 3).toFixed(1)} °C`;
      log(al, "raise", from, stateName(al));
      if (al.shelved_until === null && !al.out_of_service) note({ t: now(), kind: "alarm", severity: al.severity, title: al.name, body: `raised: ${al.value}${al.message ? ` — ${al.message}` : ""}`, alarm_id: al.alarm_id });
      changed(al);
    } else {
      const from = stateName(al);
      al.active = false;
      log(al, "return", from, stateName(al));
      changed(al);
    }
    if (tick % 3 === 0) note({ t: now(), kind: "system", severity: null, title: "dmm1 reconnecting", body: "connection refused (127.0.0.1:5025), retrying in 8 s", alarm_id: null });
  }, 45_000);
}
