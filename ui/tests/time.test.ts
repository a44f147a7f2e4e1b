import { describe, expect, it } from "vitest";
import { setLang } from "../src/i18n";
import { formatAge, formatDateTime, formatDateTimeMs, formatTime, getTimeZone, isValidZone, setTimeZone, zoneOffsetMinutes } from "../src/time";

const T = Date.UTC(2026, 0, 15, 23, 30, 5, 42); // 2026-01-15 23:30:05.042 UTC

describe("time", () => {
  it("formats in the given IANA zone", () => {
    expect(formatDateTime(T, "UTC")).toBe("2026-01-15 23:30:05");
    expect(formatDateTime(T, "Asia/Tokyo")).toBe("2026-01-16 08:30:05");
    expect(formatDateTime(T, "America/New_York")).toBe("2026-01-15 18:30:05");
    expect(formatTime(T, "Asia/Kolkata")).toBe("05:00:05");
    expect(formatDateTimeMs(T, "Asia/Tokyo")).toBe("2026-01-16 08:30:05.042");
  });

  it("uses the zone from the settings by default", () => {
    setTimeZone("Asia/Tokyo");
    expect(getTimeZone()).toBe("Asia/Tokyo");
    expect(formatDateTime(T)).toBe("2026-01-16 08:30:05");
    setTimeZone("Not/AZone");
    expect(getTimeZone()).toBe("UTC");
    expect(formatDateTime(T)).toBe("2026-01-15 23:30:05");
  });

  it("handles daylight saving", () => {
    const summer = Date.UTC(2026, 6, 1, 12, 0, 0);
    expect(formatDateTime(summer, "Europe/Berlin")).toBe("2026-07-01 14:00:00");
    expect(zoneOffsetMinutes(summer, "Europe/Berlin")).toBe(120);
    expect(zoneOffsetMinutes(T, "Europe/Berlin")).toBe(60);
    expect(zoneOffsetMinutes(T, "Asia/Tokyo")).toBe(540);
  });

  it("validates zones", () => {
    expect(isValidZone("Asia/Tokyo")).toBe(true);
    expect(isValidZone("Mars/Olympus")).toBe(false);
    expect(isValidZone("")).toBe(false);
  });

  it("formats relative ages", () => {
    setLang("en");
    const now = T + 0;
    expect(formatAge(null, now)).toBe("never");
    expect(formatAge(now - 200, now)).toBe("now");
    expect(formatAge(now - 5_000, now)).toBe("5s ago");
    expect(formatAge(now - 3 * 60_000, now)).toBe("3m ago");
    expect(formatAge(now - 2 * 3_600_000, now)).toBe("2h ago");
    expect(formatAge(now - 3 * 86_400_000, now)).toBe("3d ago");
    expect(formatAge(now + 5_000, now)).toBe("now");
    setLang("ja");
    expect(formatAge(now - 3 * 60_000, now)).toBe("3分前");
    setLang("en");
  });
});

describe("zonedDate", () => {
  it("reads the zone's wall clock like uPlot's tzDate, without toLocaleString", async () => {
    const { zonedDate } = await import("../src/time");
    const uPlot = (await import("uplot")).default;
    for (const tz of ["Asia/Tokyo", "Europe/Berlin", "America/New_York", "UTC"]) {
      for (const ms of [Date.UTC(2026, 2, 29, 0, 59, 59, 123), Date.UTC(2026, 9, 25, 1, 0, 0, 0), Date.UTC(2026, 11, 31, 23, 30, 5, 999)]) {
        const a = zonedDate(ms, tz);
        const b = uPlot.tzDate(new Date(ms), tz);
        expect([a.getFullYear(), a.getMonth(), a.getDate(), a.getHours(), a.getMinutes(), a.getSeconds()]).toEqual([b.getFullYear(), b.getMonth(), b.getDate(), b.getHours(), b.getMinutes(), b.getSeconds()]);
        expect(a.getMilliseconds()).toBe(ms % 1000);
      }
    }
  });
});

describe("cached zone offsets", () => {
  it("format every instant as Intl does, across DST changes and odd offsets", () => {
    const fmts = new Map<string, Intl.DateTimeFormat>();
    const intl = (ms: number, tz: string): string => {
      const p: Record<string, string> = {};
      let f = fmts.get(tz);
      if (!f) fmts.set(tz, (f = new Intl.DateTimeFormat("en-CA", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })));
      for (const x of f.formatToParts(new Date(ms))) p[x.type] = x.value;
      return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
    };
    const zones = ["Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "America/St_Johns", "UTC"];
    // Around 2026's changes, every 7 min 13.5 s for a day either side, and across a year.
    const around = [Date.UTC(2026, 2, 29, 1), Date.UTC(2026, 9, 25, 1), Date.UTC(2026, 3, 5, 15), Date.UTC(2026, 2, 8, 7), Date.UTC(2026, 10, 1, 6)];
    for (const tz of zones) {
      const instants: number[] = [];
      for (const c of around) for (let ms = c - 43_200_000; ms < c + 43_200_000; ms += 433_500) instants.push(ms);
      for (let ms = Date.UTC(2025, 0, 1); ms < Date.UTC(2026, 0, 1); ms += 86_400_000 + 3_600_123) instants.push(ms);
      for (const ms of instants) expect(formatDateTime(ms, tz), `${tz} ${ms}`).toBe(intl(ms, tz));
    }
  });
});
