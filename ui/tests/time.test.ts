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
