// Development-only stand-in for the issue-4 commands (alarms, rules, calcs,
// destinations, journal, notifications). Loaded with src/mock.ts only. The
// checks here only imitate the backend's so the screens can be seen working;
// the real rules live in meterdeck-core.
import { emit } from "@tauri-apps/api/event";
import type {
  AlarmView,
  Calc,
  Destination,
  DestinationView,
  FieldError,
  JournalAction,
  JournalEntry,
  Note,
  Rule,
  SecondCondition,
  Severity,
} from "./api";
import { sortAlarms, sortNotes } from "./alarmfmt";

type Args = Record<string, unknown>;
export interface MockEnv {
  channelPaths(): string[];
  instruments(): string[];
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

// ---- validation imitating the backend's messages ----------------------------

class Refusal {
  constructor(
    readonly field: string,
    readonly message: string,
    readonly position?: number,
  ) {}
}
const refuse = (field: string, message: string, position?: number): never => {
  throw new Refusal(field, message, position);
};
const asError = (e: unknown): FieldError => {
  if (e instanceof Refusal) return e.position ? { field: e.field, message: e.message, position: e.position } : { field: e.field, message: e.message };
  throw e;
};

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const DURATION = /^\s*(\d+\s*(ms|s|sec|m|min|h|d)\s*)+$/;
const OPS = [">", ">=", "<=", "<", "outside_incl", "outside_excl"];
const SEVS: Severity[] = ["critical", "high", "medium", "low"];
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const SPECIALS = ["no-data", "over-range", "under-range", "burn-out", "invalid"];

function checkId(id: unknown): void {
  if (typeof id !== "string" || !id) refuse("id", "enter an id");
  if (!ID.test(id as string)) refuse("id", "use 1 to 64 letters, digits, '-' or '_'");
}
function checkDuration(field: string, v: unknown): void {
  if (v === undefined || v === null) return;
  if (typeof v !== "string" || !DURATION.test(v)) refuse(field, `expected a duration such as 10s, 5m or 1h, got "${String(v)}"`);
}
function checkNumber(field: string, v: unknown, required: boolean): void {
  if (v === undefined || v === null) {
    if (required) refuse(field, "enter a number");
    return;
  }
  if (typeof v !== "number" || !Number.isFinite(v)) refuse(field, `"${String(v)}" is not a number`);
}

type Cond = { [K in keyof SecondCondition]?: SecondCondition[K] | null };
function checkCondition(prefix: string, c: Cond, env: MockEnv): void {
  if (!c.channel) refuse(`${prefix}channel`, "choose a channel");
  if (!env.channelPaths().includes(c.channel as string)) refuse(`${prefix}channel`, `unknown channel "${c.channel}"`);
  if (!OPS.includes(c.op as string)) refuse(`${prefix}op`, `unknown comparison "${String(c.op)}"`);
  if (c.op === "outside_incl" || c.op === "outside_excl") {
    checkNumber(`${prefix}low`, c.low, true);
    checkNumber(`${prefix}high`, c.high, true);
    if ((c.low as number) >= (c.high as number)) refuse(`${prefix}high`, `high must be greater than low (${c.low})`);
  } else checkNumber(`${prefix}value`, c.value, true);
}

function checkRule(r: Rule, env: MockEnv): void {
  checkId(r.id);
  if (r.severity && !SEVS.includes(r.severity)) refuse("severity", `unknown severity "${r.severity}"`);
  switch (r.kind) {
    case "threshold":
      checkCondition("", r, env);
      checkNumber("deadband", r.deadband, false);
      if ((r.deadband ?? 0) < 0) refuse("deadband", "the deadband cannot be negative");
      if (r.second) {
        checkCondition("second.", r.second, env);
        if (!["and", "or", undefined, null].includes(r.second.combine)) refuse("second.combine", "combine must be and or or");
      }
      break;
    case "connection":
      if (r.instrument && !env.instruments().includes(r.instrument)) refuse("instrument", `unknown instrument "${r.instrument}"`);
      break;
    case "special":
      if (r.channel && !env.channelPaths().includes(r.channel)) refuse("channel", `unknown channel "${r.channel}"`);
      for (const s of r.specials ?? []) if (!SPECIALS.includes(s)) refuse("specials", `unknown special value "${s}"`);
      break;
    case "storage":
      if (r.below !== undefined && r.below !== null && !/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(r.below)) refuse("below", `expected a size such as 500MB or 2GB, got "${r.below}"`);
      break;
    default:
      refuse("kind", `unknown kind "${String(r.kind)}"`);
  }
  checkDuration("filter", r.filter);
  if (r.window) {
    const w = r.window;
    if (!w.days || !w.days.length) refuse("window.days", "tick at least one day");
    for (const d of w.days ?? []) if (!DAYS.includes(d)) refuse("window.days", `unknown day "${d}"`);
    for (const k of ["from", "to"] as const) {
      if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(w[k] ?? "")) refuse(`window.${k}`, `expected a time HH:MM (00:00 to 23:59), got "${w[k] ?? ""}"`);
    }
    if (w.from === w.to) refuse("window.to", "the window is empty: from equals to");
    if (w.tz) {
      try {
        new Intl.DateTimeFormat("en", { timeZone: w.tz });
      } catch {
        refuse("window.tz", `unknown time zone "${w.tz}" (use an IANA name such as Asia/Tokyo)`);
      }
    }
  }
  for (const d of r.destinations ?? []) if (!dests.some((x) => x.id === d)) refuse("destinations", `unknown destination "${d}"`);
  checkDuration("reminder", r.reminder);
  if ((r.message ?? "").length > 500) refuse("message", "the message is longer than 500 characters");
}

/** A small parser for the calc grammar, reporting 1-based columns. */
function checkExpr(expr: string, vars: string[]): void {
  const chars = Array.from(expr);
  let i = 0;
  const ws = (): void => {
    while (i < chars.length && /\s/.test(chars[i])) i++;
  };
  const fail = (msg: string, at = i): never => refuse("expr", msg, at + 1);
  function primary(): void {
    ws();
    const c = chars[i];
    if (c === undefined) fail("the expression ends too early");
    if (c === "(") {
      const open = i++;
      sum();
      ws();
      if (chars[i] !== ")") fail(`missing ')' for the '(' at column ${open + 1}`);
      i++;
      return;
    }
    if (/[0-9.]/.test(c)) {
      const start = i;
      while (i < chars.length && /[0-9.]/.test(chars[i])) i++;
      if (/[eE]/.test(chars[i] ?? "")) {
        i++;
        if (/[+-]/.test(chars[i] ?? "")) i++;
        while (i < chars.length && /[0-9]/.test(chars[i])) i++;
      }
      if (!Number.isFinite(Number(chars.slice(start, i).join("")))) fail(`"${chars.slice(start, i).join("")}" is not a number`, start);
      return;
    }
    if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < chars.length && /[A-Za-z0-9_]/.test(chars[i])) i++;
      const word = chars.slice(start, i).join("");
      ws();
      if (chars[i] === "(") {
        if (!["SQ", "SQR"].includes(word.toUpperCase())) fail(`unknown function ${word} (use SQ or SQR)`, start);
        const open = i++;
        sum();
        ws();
        if (chars[i] !== ")") fail(`missing ')' for the '(' at column ${open + 1}`);
        i++;
        return;
      }
      if (!vars.includes(word)) fail(`unknown input ${word}; the inputs are ${vars.join(", ") || "(none)"}`, start);
      return;
    }
    fail(`unexpected '${c}'`);
  }
  function unary(): void {
    ws();
    if (chars[i] === "-" || chars[i] === "+") i++;
    primary();
  }
  function product(): void {
    unary();
    for (;;) {
      ws();
      if (chars[i] !== "*" && chars[i] !== "/") return;
      i++;
      unary();
    }
  }
  function sum(): void {
    product();
    for (;;) {
      ws();
      if (chars[i] !== "+" && chars[i] !== "-") return;
      i++;
      product();
    }
  }
  if (!expr.trim()) refuse("expr", "enter an expression");
  sum();
  ws();
  if (i < chars.length) fail(`unexpected '${chars[i]}'`);
}

function checkCalc(c: Calc, env: MockEnv): void {
  checkId(c.id);
  const names = Object.keys(c.inputs ?? {});
  if (names.length < 1 || names.length > 10) refuse("inputs", `a calculation takes 1 to 10 inputs, not ${names.length}`);
  for (const [k, p] of Object.entries(c.inputs)) {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,15}$/.test(k)) refuse(`inputs.${k}`, `"${k}" is not a valid input name (a letter, then letters, digits or _)`);
    if (!p) refuse(`inputs.${k}`, `choose a channel for ${k}`);
    if (p === `calc/${c.id}`) refuse(`inputs.${k}`, "a calculation cannot use its own channel");
    if (!env.channelPaths().includes(p)) refuse(`inputs.${k}`, `unknown channel "${p}"`);
  }
  checkExpr(c.expr ?? "", names);
  checkDuration("tolerance", c.tolerance);
}

function checkDestination(d: Destination, secret: string | undefined): void {
  checkId(d.id);
  if (d.kind === "email") {
    if (!d.host) refuse("host", "enter the SMTP server");
    if (d.port !== undefined && d.port !== null && (!Number.isInteger(d.port) || d.port < 1 || d.port > 65535)) refuse("port", `port must be 1 to 65535, got "${d.port}"`);
    if (!d.from) refuse("from", "enter the sender address");
    if (!d.to || !d.to.length) refuse("to", "enter at least one address");
    for (const a of d.to ?? []) if (!/^[^@\s]+@[^@\s]+$/.test(a.replace(/^.*<|>$/g, ""))) refuse("to", `"${a}" is not an e-mail address`);
  } else if (d.kind === "webhook") {
    if (!["slack", "teams", "json"].includes(d.format ?? "")) refuse("format", `unknown format "${d.format}"`);
    if (secret !== undefined && !/^https?:\/\/\S+$/.test(secret)) refuse("secret", "the webhook URL must start with https://");
  } else if (d.kind !== "desktop") refuse("kind", `unknown kind "${String(d.kind)}"`);
}

// ---- alarm actions ------------------------------------------------------------

function findAlarm(id: unknown): AlarmView {
  const a = alarms.find((x) => x.alarm_id === id);
  if (!a) throw `unknown alarm "${String(id)}"`;
  return a;
}
function needUser(u: unknown): string {
  if (typeof u !== "string" || !u.trim()) throw "enter your name in the user field";
  return u.trim();
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
    const user = needUser(a.user);
    if (al.acked) throw `${al.alarm_id} is already acknowledged`;
    const from = stateName(al);
    al.acked = true;
    al.ack = { user, comment: String(a.comment ?? ""), t: now() };
    log(al, "ack", from, stateName(al), user, String(a.comment ?? ""));
    changed(al);
    return null;
  },
  alarm_shelve: (a) => {
    const al = findAlarm(a.alarmId);
    const user = needUser(a.user);
    const m = a.minutes;
    if (typeof m !== "number" || !Number.isInteger(m)) throw `invalid args \`minutes\` for command \`alarm_shelve\`: expected a whole number of minutes, got "${String(m)}"`;
    if (m < 1 || m > 10080) throw `shelve for 1 minute to 7 days (10080 minutes), not ${m}`;
    const from = stateName(al);
    al.shelved_until = now() + m * MIN;
    log(al, "shelve", from, stateName(al), user, String(a.comment ?? ""));
    changed(al);
    return null;
  },
  alarm_unshelve: (a) => {
    const al = findAlarm(a.alarmId);
    const user = needUser(a.user);
    if (al.shelved_until === null) throw `${al.alarm_id} is not shelved`;
    const from = stateName(al);
    al.shelved_until = null;
    log(al, "unshelve", from, stateName(al), user);
    changed(al);
    return null;
  },
  alarm_out_of_service: (a) => {
    const al = findAlarm(a.alarmId);
    const user = needUser(a.user);
    const on = Boolean(a.on);
    if (on === al.out_of_service) throw `${al.alarm_id} is already ${on ? "out of service" : "in service"}`;
    if (on && !String(a.comment ?? "").trim()) throw "say why in the comment: out of service hides the alarm until it is returned to service";
    const from = stateName(al);
    al.out_of_service = on;
    log(al, on ? "out_of_service" : "in_service", from, stateName(al), user, String(a.comment ?? ""));
    changed(al);
    return null;
  },

  rules_list: () => structuredClone(rules),
  rule_check: (a) => {
    try {
      checkRule(a.rule as Rule, env);
      return null;
    } catch (e) {
      return asError(e);
    }
  },
  rule_save: (a) => {
    const r = a.rule as Rule;
    try {
      checkRule(r, env);
    } catch (e) {
      throw asError(e);
    }
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
  calc_check: (a) => {
    try {
      checkCalc(a.calc as Calc, env);
      return null;
    } catch (e) {
      return asError(e);
    }
  },
  calc_save: (a) => {
    const c = a.calc as Calc;
    try {
      checkCalc(c, env);
    } catch (e) {
      throw asError(e);
    }
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
    const used = rules.find((r) => r.channel === `calc/${a.id}` || r.second?.channel === `calc/${a.id}`);
    if (used) throw `calc/${String(a.id)} is used by alarm rule ${used.id}`;
    calcs.splice(k, 1);
    env.removeChannel("calc", String(a.id));
    return null;
  },

  destinations_list: () => structuredClone(dests),
  destination_save: (a) => {
    const d = a.destination as Destination;
    const secret = typeof a.secret === "string" ? a.secret : undefined;
    try {
      checkDestination(d, secret);
    } catch (e) {
      throw asError(e);
    }
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
    const used = rules.find((r) => (r.destinations ?? []).includes(String(a.id)));
    if (used) throw `destination ${String(a.id)} is used by alarm rule ${used.id}`;
    dests.splice(k, 1);
    return null;
  },
  destination_test: (a) => {
    const d = dests.find((x) => x.id === a.id);
    if (!d) throw `unknown destination "${String(a.id)}"`;
    if (d.kind === "email" && d.username && !d.has_secret) return `no password stored in keychain for smtp:${d.id}`;
    if (d.kind === "webhook" && !d.has_secret) return `no URL stored in keychain for webhook:${d.id}`;
    if (d.kind === "email" && d.host === "smtp.example.com") return `SMTP ${d.host}:${d.port ?? 587}: connection timed out after 10 s`;
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
