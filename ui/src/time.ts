// Every time shown is formatted in the settings' IANA zone.
import { t } from "./i18n";

let zone = "UTC";
let locale = "en-GB";

export function setTimeZone(tz: string): void {
  zone = isValidZone(tz) ? tz : "UTC";
}

export function getTimeZone(): string {
  return zone;
}

export function setLocale(lang: string): void {
  locale = lang === "ja" ? "ja-JP" : lang === "de" ? "de-DE" : "en-GB";
}

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
function fmt(tz: string, kind: "full" | "short" | "ms"): Intl.DateTimeFormat {
  const key = `${tz}|${kind}|${locale}`;
  let f = cache.get(key);
  if (!f) {
    const base: Intl.DateTimeFormatOptions = {
      timeZone: tz,
      hourCycle: "h23",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    };
    if (kind !== "short") Object.assign(base, { year: "numeric", month: "2-digit", day: "2-digit" });
    if (kind === "ms") base.fractionalSecondDigits = 3;
    f = new Intl.DateTimeFormat("en-CA", base);
    cache.set(key, f);
  }
  return f;
}

function parts(ms: number, tz: string, kind: "full" | "short" | "ms"): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of fmt(tz, kind).formatToParts(new Date(ms))) out[p.type] = p.value;
  return out;
}

/** `2026-11-22 13:04:05` in the zone (ISO-like, independent of locale). */
export function formatDateTime(ms: number, tz: string = zone): string {
  const p = parts(ms, tz, "full");
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** With milliseconds, for tables and read-outs of fast data. */
export function formatDateTimeMs(ms: number, tz: string = zone): string {
  const p = parts(ms, tz, "ms");
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}.${p.fractionalSecond ?? "000"}`;
}

/** `13:04:05` in the zone. */
export function formatTime(ms: number, tz: string = zone): string {
  const p = parts(ms, tz, "short");
  return `${p.hour}:${p.minute}:${p.second}`;
}

/** Offset of the zone from UTC at instant `ms`, in minutes (e.g. +540 for Tokyo). */
export function zoneOffsetMinutes(ms: number, tz: string = zone): number {
  const p = parts(Math.floor(ms / 1000) * 1000, tz, "full");
  const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
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
 * uPlot's `tzDate` makes), from the cached formatter: uPlot's own goes
 * through `toLocaleString` with a zone, which costs ~0.7 ms a call in
 * WebKitGTK and was most of a Viewer redraw (issue 17). */
export function zonedDate(ms: number, tz: string = zone): Date {
  const p = parts(ms, tz, "ms");
  return new Date(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second, +(p.fractionalSecond ?? 0));
}
