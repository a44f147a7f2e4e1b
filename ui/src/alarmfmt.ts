// Ordering and display helpers for alarms, notifications, rules and calcs.
// No alarm logic lives here: states come from the backend as they are.
import type { AlarmView, Calc, CompareOp, Note, Rule, Severity } from "./api";
import { tDyn } from "./i18n";

export const SEVERITIES: Severity[] = ["critical", "high", "medium", "low"];

export function severityRank(s: string | null | undefined): number {
  const k = SEVERITIES.indexOf(s as Severity);
  return k < 0 ? SEVERITIES.length : k;
}

/** The contract's order: unacknowledged first, then active, then severity, then newest.
 * Used to keep the list in that order when single alarms arrive by event. */
export function compareAlarms(a: AlarmView, b: AlarmView): number {
  if (a.acked !== b.acked) return a.acked ? 1 : -1;
  if (a.active !== b.active) return a.active ? -1 : 1;
  const s = severityRank(a.severity) - severityRank(b.severity);
  if (s) return s;
  if (a.since !== b.since) return b.since - a.since;
  return a.alarm_id < b.alarm_id ? -1 : a.alarm_id > b.alarm_id ? 1 : 0;
}

export function sortAlarms(list: AlarmView[]): AlarmView[] {
  return list.slice().sort(compareAlarms);
}

/** Replaces (by alarm_id) or adds `a`, keeping the order. */
export function upsertAlarm(list: AlarmView[], a: AlarmView): AlarmView[] {
  return sortAlarms([...list.filter((x) => x.alarm_id !== a.alarm_id), a]);
}

/** A full list from the backend, keeping alarms for which an event already
 * brought a newer state (a reply computed before a change can arrive after
 * the change's event). */
export function mergeAlarms(current: AlarmView[], reply: AlarmView[]): AlarmView[] {
  const seen = new Map(current.map((a) => [a.alarm_id, a]));
  return sortAlarms(reply.map((a) => {
    const mine = seen.get(a.alarm_id);
    return mine && mine.since > a.since ? mine : a;
  }));
}

export function countUnacked(list: AlarmView[]): number {
  return list.filter((a) => !a.acked).length;
}

export type BadgeKey = "active" | "returned" | "unacked" | "acked" | "shelved" | "oos";

/** The state badges of an alarm row, in display order. */
export function alarmBadges(a: AlarmView): BadgeKey[] {
  const out: BadgeKey[] = [a.active ? "active" : "returned", a.acked ? "acked" : "unacked"];
  if (a.shelved_until !== null && a.shelved_until !== undefined) out.push("shelved");
  if (a.out_of_service) out.push("oos");
  return out;
}

/** Newest first (ties: by id, descending). */
export function sortNotes(list: Note[]): Note[] {
  return list.slice().sort((a, b) => b.t - a.t || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

export function upsertNote(list: Note[], n: Note): Note[] {
  return sortNotes([...list.filter((x) => x.id !== n.id), n]);
}

/** Shelve choices in minutes; "custom" takes what the user typed. */
export const SHELVE_CHOICES = { "15m": 15, "1h": 60, "8h": 480, "24h": 1440 } as const;
export type ShelveChoice = keyof typeof SHELVE_CHOICES | "custom";

/** Minutes to send for a choice; typed text that is not a number passes through
 * unchanged (the backend names it), as elsewhere in the UI. */
export function shelveMinutes(choice: ShelveChoice, custom: string): number {
  if (choice !== "custom") return SHELVE_CHOICES[choice];
  const v = custom.trim();
  return v !== "" && Number.isFinite(Number(v)) ? Number(v) : (v as unknown as number);
}

/** A number input's text as a JSON value: empty -> undefined, a number -> number,
 * anything else -> the text itself (for the backend to refuse by field). */
export function numberOrText(s: string): number | undefined {
  const v = s.trim();
  if (v === "") return undefined;
  return Number.isFinite(Number(v)) ? Number(v) : (v as unknown as number);
}

export function opText(op: CompareOp | string | null | undefined, low?: unknown, high?: unknown, value?: unknown): string {
  const show = (x: unknown): string => (x === null || x === undefined ? "?" : String(x));
  if (op === "outside_incl") return `${tDyn("rules.outside", "outside")} [${show(low)}, ${show(high)}]`;
  if (op === "outside_excl") return `${tDyn("rules.outside", "outside")} (${show(low)}, ${show(high)})`;
  return `${op ?? "?"} ${show(value)}`;
}

/** One line describing a rule's condition for the rules table. */
export function ruleSummary(r: Rule): string {
  switch (r.kind) {
    case "threshold": {
      let s = `${r.channel ?? "?"} ${opText(r.op, r.low, r.high, r.value)}`;
      if (r.second) {
        const c = r.second.combine ?? "and";
        s += ` ${tDyn(`rules.combine.${c}`, c)} ${r.second.channel} ${opText(r.second.op, r.second.low, r.second.high, r.second.value)}`;
      }
      return s;
    }
    case "connection":
      return r.instrument ? `${tDyn("rules.kind.connection", "connection")}: ${r.instrument}` : `${tDyn("rules.kind.connection", "connection")}: ${tDyn("rules.anyInstrument", "any instrument")}`;
    case "special": {
      const which = r.specials && r.specials.length ? r.specials.map((k) => tDyn(`special.${k}`, k)).join(", ") : tDyn("rules.allSpecials", "all");
      return `${r.channel ?? tDyn("rules.anyChannel", "any channel")}: ${which}`;
    }
    case "storage":
      return `${tDyn("rules.kind.storage", "storage")} < ${r.below ?? "1GB"}`;
    case "new_file":
      return `${r.instrument ?? tDyn("rules.anyInstrument", "any instrument")}: ${r.pattern ?? tDyn("rules.anyFile", "any file")}`;
    default:
      return String((r as { kind: unknown }).kind);
  }
}

export function calcInputsText(c: Calc): string {
  return Object.entries(c.inputs ?? {})
    .map(([k, v]) => `${k} = ${v}`)
    .join(", ");
}

/** Splits `expr` around the 1-based column `position` (in characters, not
 * UTF-16 units) for marking it; a position past the end marks the end. */
export function caretParts(expr: string, position: number): { before: string; at: string; after: string; pad: number } {
  const chars = Array.from(expr);
  const k = Math.min(Math.max(1, Math.floor(position)), chars.length + 1) - 1;
  return { before: chars.slice(0, k).join(""), at: chars[k] ?? " ", after: chars.slice(k + 1).join(""), pad: k };
}

/** The form key a backend field name belongs to: "alarm.window.days[2]" ->
 * the first of "window.days", "window" that the form has. */
export function resolveField(field: string | null | undefined, known: Iterable<string>): string | null {
  if (!field) return null;
  const keys = new Set(known);
  let f = field.trim().replace(/\[[^\]]*\]/g, "").replace(/^(alarm|rule|calc|destination)\./, "");
  while (f) {
    if (keys.has(f)) return f;
    const dot = f.lastIndexOf(".");
    if (dot < 0) break;
    f = f.slice(0, dot);
  }
  return null;
}
