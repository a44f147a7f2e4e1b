import { describe, expect, it } from "vitest";
import { align, timeLabels } from "../src/plot";
import { setTimeZone } from "../src/time";

describe("plot data", () => {
  it("aligns series on the union of time stamps; gaps stay null, missing points undefined", () => {
    const { xs, cols } = align([
      { key: "a", label: "a", unit: "V", color: "#000000", view: { channelId: 1, raw: true, t: [1, 3], min: [10, null], max: [10, null] } },
      { key: "b", label: "b", unit: "A", color: "#000000", view: { channelId: 2, raw: false, t: [2, 3], min: [1, 2], max: [5, 6] } },
    ]);
    expect(xs).toEqual([1, 2, 3]);
    expect(cols).toEqual([
      [10, undefined, null],
      [undefined, 5, 6],
      [undefined, 1, 2],
    ]);
  });

  it("labels ticks in 24-hour time in the settings' zone with the date where it changes", () => {
    setTimeZone("Asia/Tokyo");
    const t0 = Date.UTC(2026, 0, 15, 14, 30, 0); // 23:30 in Tokyo
    expect(timeLabels([t0, t0 + 1_800_000, t0 + 3_600_000], 1_800_000)).toEqual(["23:30\n01-15", "00:00\n01-16", "00:30"]);
    expect(timeLabels([t0], 86_400_000)).toEqual(["2026-01-15"]);
    setTimeZone("UTC");
  });
});
