// Every time shown is formatted in the settings' IANA zone.
import { t } from "./i18n";

let zone = "UTC";

export function setTimeZone(tz: string): void {
  zone = isValidZone(tz) ? tz : "UTC";
}

export function getTimeZone(): string {
  return zone;
}

/** Times are written ISO-like in every language (the formatter was always
 * en-CA's), so the language changes nothing here. */
export function setLocale(_lang: string): void {}

export function isValidZone(tz: string): boolean {
  if (!tz) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const cache = new Map<string, Intl.DateTimeFormat>();
function fmt(tz: string): Intl.DateTimeFormat {
  let f = cache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    cache.set(tz, f);
  }
  return f;
}

function parts(ms: number, tz: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of fmt(tz).formatToParts(new Date(ms))) out[p.type] = p.value;
  return out;
}

// Formatting goes through the zone's UTC offset, looked up once per
// quarter hour (offset changes fall on quarter hours) and kept:
// `formatToParts` per call is slow in WebKitGTK, and a plot's axes and
// read-out format dozens of times per redraw (issue 17).
const QUARTER = 900_000;
const offsets = new Map<string, Map<number, number>>();

/** Offset of `tz` from UTC at `ms`, in ms. */
function offsetMs(ms: number, tz: string): number {
  let byZone = offsets.get(tz);
  if (!byZone) offsets.set(tz, (byZone = new Map()));
  const q = Math.floor(ms / QUARTER);
  let off = byZone.get(q);
  if (off === undefined) {
    const at = q * QUARTER;
    const p = parts(at, tz);
    off = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second) - at;
    if (byZone.size > 50_000) byZone.clear();
    byZone.set(q, off);
  }
  return off;
}

const pad2 = (n: number): string => (n < 10 ? "0" : "") + n;
const pad3 = (n: number): string => (n < 10 ? "00" : n < 100 ? "0" : "") + n;

/** The zone's wall clock at `ms` as the UTC fields of a Date. */
function wall(ms: number, tz: string): Date {
  return new Date(ms + offsetMs(ms, tz));
}

function ymd(d: Date): string {
  const y = d.getUTCFullYear();
  return `${y < 1000 ? String(y).padStart(4, "0") : y}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

function hms(d: Date): string {
  return `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

/** `2026-11-22 13:04:05` in the zone (ISO-like, independent of locale). */
export function formatDateTime(ms: number, tz: string = zone): string {
  const d = wall(ms, tz);
  return `${ymd(d)} ${hms(d)}`;
}

/** With milliseconds, for tables and read-outs of fast data. */
export function formatDateTimeMs(ms: number, tz: string = zone): string {
  const d = wall(ms, tz);
  return `${ymd(d)} ${hms(d)}.${pad3(d.getUTCMilliseconds())}`;
}

/** `13:04:05` in the zone. */
export function formatTime(ms: number, tz: string = zone): string {
  return hms(wall(ms, tz));
}

/** Offset of the zone from UTC at instant `ms`, in minutes (e.g. +540 for Tokyo). */
export function zoneOffsetMinutes(ms: number, tz: string = zone): number {
  return Math.round(offsetMs(ms, tz) / 60000);
}

/** "5s ago", "3m ago"... relative to `now`. */
export function formatAge(ms: number | null | undefined, now: number = Date.now()): string {
  if (ms === null || ms === undefined) return t("age.never");
  const s = Math.max(0, Math.floor((now - ms) / 1000));
  if (s < 1) return t("age.now");
  if (s < 60) return t("age.s", { n: s });
  if (s < 3600) return t("age.m", { n: Math.floor(s / 60) });
  if (s < 86400) return t("age.h", { n: Math.floor(s / 3600) });
  return t("age.d", { n: Math.floor(s / 86400) });
}

/** Wall-clock text "YYYY-MM-DDTHH:MM[:SS]" (a datetime-local value) read in the
 * zone -> ms; null when it is not such a text. */
export function parseZoned(text: string, tz: string = zone): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  if (!m) return null;
  const asUtc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0));
  // The offset depends on the instant; two rounds settle it around DST changes.
  let t = asUtc - zoneOffsetMinutes(asUtc, tz) * 60_000;
  t = asUtc - zoneOffsetMinutes(t, tz) * 60_000;
  return t;
}

/** ms -> "YYYY-MM-DDTHH:MM" in the zone, for a datetime-local input. */
export function toZonedInput(ms: number, tz: string = zone): string {
  return formatDateTime(ms, tz).slice(0, 16).replace(" ", "T");
}

/** A Date whose local fields read the zone's wall clock at `ms` (what
 * uPlot's `tzDate` makes), from the cached offsets: uPlot's own goes
 * through `toLocaleString` with a zone, which costs ~0.7 ms a call in
 * WebKitGTK and was most of a Viewer redraw (issue 17). */
export function zonedDate(ms: number, tz: string = zone): Date {
  const d = wall(ms, tz);
  return new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}
