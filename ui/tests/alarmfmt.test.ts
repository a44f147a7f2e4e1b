import { describe, expect, it } from "vitest";
import type { AlarmView, Note, Rule } from "../src/api";
import {
  alarmBadges,
  calcInputsText,
  caretParts,
  compareAlarms,
  countUnacked,
  mergeAlarms,
  numberOrText,
  resolveField,
  ruleSummary,
  shelveMinutes,
  sortAlarms,
  sortNotes,
  upsertAlarm,
  upsertNote,
} from "../src/alarmfmt";
import { setLang } from "../src/i18n";
import { nextInputName } from "../src/screens/calcs";
import { destinationSummary, splitList } from "../src/screens/destinations";
import { parseZoned, setTimeZone, toZonedInput } from "../src/time";

const base: AlarmView = {
  alarm_id: "a",
  rule_id: "a",
  name: "A",
  severity: "medium",
  kind: "threshold",
  active: true,
  acked: false,
  shelved_until: null,
  out_of_service: false,
  since: 1000,
  raised_at: 1000,
  value: null,
  message: null,
  ack: null,
};
const al = (id: string, p: Partial<AlarmView>): AlarmView => ({ ...base, alarm_id: id, rule_id: id, ...p });

describe("alarm order (unacknowledged, active, severity, newest)", () => {
  const list = [
    al("acked-active-critical", { acked: true, severity: "critical" }),
    al("unacked-returned-critical", { active: false, severity: "critical" }),
    al("unacked-active-low", { severity: "low" }),
    al("unacked-active-high-old", { severity: "high", since: 10 }),
    al("unacked-active-high-new", { severity: "high", since: 20 }),
    al("acked-returned-low", { acked: true, active: false, severity: "low" }),
  ];
  it("sorts as the contract says", () => {
    expect(sortAlarms(list).map((a) => a.alarm_id)).toEqual([
      "unacked-active-high-new",
      "unacked-active-high-old",
      "unacked-active-low",
      "unacked-returned-critical",
      "acked-active-critical",
      "acked-returned-low",
    ]);
    expect(compareAlarms(list[0], list[0])).toBe(0);
  });
  it("an event replaces the alarm in place and keeps the order", () => {
    const sorted = sortAlarms(list);
    const next = upsertAlarm(sorted, { ...sorted[0], acked: true, since: 30 });
    expect(next).toHaveLength(list.length);
    expect(next[0].alarm_id).toBe("unacked-active-high-old");
    expect(next.findIndex((a) => a.alarm_id === "unacked-active-high-new")).toBe(4); // after the acked critical
    expect(upsertAlarm(sorted, al("new", { severity: "critical", since: 99 }))[0].alarm_id).toBe("new");
    expect(countUnacked(next)).toBe(3);
  });
  it("gives the state badges", () => {
    expect(alarmBadges(al("x", {}))).toEqual(["active", "unacked"]);
    expect(alarmBadges(al("x", { active: false, acked: true, shelved_until: 5, out_of_service: true }))).toEqual(["returned", "acked", "shelved", "oos"]);
  });
});

describe("alarm list replies", () => {
  it("a reply older than an event's state does not undo it", () => {
    const fromEvent = [al("x", { active: true, since: 5000 }), al("y", { since: 10 })];
    const reply = [al("x", { active: false, acked: true, since: 1000 }), al("y", { since: 20 }), al("z", {})];
    const merged = mergeAlarms(fromEvent, reply);
    expect(merged.find((a) => a.alarm_id === "x")?.active).toBe(true);
    expect(merged.find((a) => a.alarm_id === "y")?.since).toBe(20);
    expect(merged.map((a) => a.alarm_id).sort()).toEqual(["x", "y", "z"]);
  });
});

describe("notifications", () => {
  const n = (id: number, t: number): Note => ({ id: String(id), t, kind: "system", severity: null, title: "", body: "", read: false, alarm_id: null });
  it("newest first, ties by id", () => {
    expect(sortNotes([n(1, 5), n(2, 9), n(3, 5)]).map((x) => x.id)).toEqual(["2", "3", "1"]);
    expect(upsertNote([n(2, 9), n(1, 5)], { ...n(1, 5), read: true }).map((x) => [x.id, x.read])).toEqual([
      ["2", false],
      ["1", true],
    ]);
  });
});

describe("form values", () => {
  it("shelve durations in minutes; custom text passes through", () => {
    expect(shelveMinutes("15m", "")).toBe(15);
    expect(shelveMinutes("1h", "")).toBe(60);
    expect(shelveMinutes("8h", "")).toBe(480);
    expect(shelveMinutes("24h", "")).toBe(1440);
    expect(shelveMinutes("custom", " 90 ")).toBe(90);
    expect(shelveMinutes("custom", "soon")).toBe("soon");
  });
  it("numbers: empty is left out, text is sent for the backend to name", () => {
    expect(numberOrText("")).toBeUndefined();
    expect(numberOrText(" 1e3 ")).toBe(1000);
    expect(numberOrText("-0.5")).toBe(-0.5);
    expect(numberOrText("80,5")).toBe("80,5");
  });
  it("next free input name", () => {
    expect(nextInputName([])).toBe("A");
    expect(nextInputName(["A", "B", "D"])).toBe("C");
  });
  it("address lists", () => {
    expect(splitList("a@x, b@y\nc@z;; ")).toEqual(["a@x", "b@y", "c@z"]);
  });
});

describe("display text", () => {
  it("summarises rules", () => {
    setLang("en");
    const r: Rule = { id: "r", kind: "threshold", channel: "l/CH1", op: "outside_incl", low: 10, high: 90, second: { channel: "l/CH2", op: "<", value: 5, combine: "or" } };
    expect(ruleSummary(r)).toBe("l/CH1 outside [10, 90] or l/CH2 < 5");
    expect(ruleSummary({ id: "r", kind: "threshold", channel: "l/CH1", op: ">", value: 80 })).toBe("l/CH1 > 80");
    expect(ruleSummary({ id: "r", kind: "connection" })).toBe("Connection: any instrument");
    expect(ruleSummary({ id: "r", kind: "special", specials: ["over-range"] })).toBe("any channel: over-range");
    expect(ruleSummary({ id: "r", kind: "storage", below: "2GB" })).toBe("Storage < 2GB");
    expect(ruleSummary({ id: "r", kind: "new_file", instrument: "logger1", pattern: "*.CSV" })).toBe("logger1: *.CSV");
    expect(ruleSummary({ id: "r", kind: "new_file" })).toBe("any instrument: any file");
    setLang("ja");
    expect(ruleSummary({ id: "r", kind: "threshold", channel: "l/CH1", op: "outside_excl", low: 1, high: 2 })).toBe("l/CH1 範囲外 (1, 2)");
    setLang("en");
  });
  it("summarises calcs and destinations", () => {
    expect(calcInputsText({ id: "c", expr: "A", inputs: { A: "p/P1", B: "p/P2" } })).toBe("A = p/P1, B = p/P2");
    expect(destinationSummary({ id: "m", kind: "email", host: "smtp", port: 587, security: "tls", username: "u", to: ["a@b", "c@d"] })).toBe("u @ smtp:587 (tls) → a@b, c@d");
  });
  it("marks the error column of an expression", () => {
    expect(caretParts("(A + B", 7)).toEqual({ before: "(A + B", at: " ", after: "", pad: 6 });
    expect(caretParts("A * Q", 5)).toEqual({ before: "A * ", at: "Q", after: "", pad: 4 });
    expect(caretParts("A+B", 1)).toEqual({ before: "", at: "A", after: "+B", pad: 0 });
    expect(caretParts("ΔT + x", 6)).toEqual({ before: "ΔT + ", at: "x", after: "", pad: 5 });
    expect(caretParts("AB", 99).pad).toBe(2);
  });
  it("maps backend field names to form fields", () => {
    const keys = ["id", "window", "window.from", "window.days", "second", "second.value", "inputs", "inputs.A"];
    expect(resolveField("window.from", keys)).toBe("window.from");
    expect(resolveField("window.days[2]", keys)).toBe("window.days");
    expect(resolveField("alarm.second.value", keys)).toBe("second.value");
    expect(resolveField("second.low", keys)).toBe("second");
    expect(resolveField("inputs.A", keys)).toBe("inputs.A");
    expect(resolveField("inputs.Z", keys)).toBe("inputs");
    expect(resolveField("nonsense", keys)).toBeNull();
    expect(resolveField(null, keys)).toBeNull();
  });
});

describe("journal range times in the settings' zone", () => {
  it("reads wall-clock text in the zone", () => {
    expect(parseZoned("2026-01-16 08:30", "Asia/Tokyo")).toBe(Date.UTC(2026, 0, 15, 23, 30));
    expect(parseZoned("2026-07-01T14:00", "Europe/Berlin")).toBe(Date.UTC(2026, 6, 1, 12, 0));
    expect(parseZoned("2026-03-29 03:30", "Europe/Berlin")).toBe(Date.UTC(2026, 2, 29, 1, 30));
    expect(parseZoned("yesterday", "UTC")).toBeNull();
    setTimeZone("Asia/Tokyo");
    expect(toZonedInput(Date.UTC(2026, 0, 15, 23, 30))).toBe("2026-01-16T08:30");
    setTimeZone("UTC");
  });
});
