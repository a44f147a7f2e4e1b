import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
const listen = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...a: unknown[]) => invoke(...a) }));
vi.mock("@tauri-apps/api/event", () => ({ listen: (...a: unknown[]) => listen(...a) }));

import { api, compact, events, fieldError, type AlarmView, type Calc, type Destination, type Note, type Rule } from "../src/api";

beforeEach(() => {
  invoke.mockReset();
  invoke.mockResolvedValue(null);
  listen.mockReset();
  listen.mockResolvedValue(() => {});
});

const rule: Rule = { id: "boiler-hot", kind: "threshold", channel: "logger1/CH1_1", op: ">", value: 80, second: { channel: "logger1/CH1_2", op: "<", value: 5, combine: "and" } };
const calc: Calc = { id: "total_power", expr: "(A + B) * 2", inputs: { A: "power1/P1", B: "power2/P1" }, tolerance: "2s" };
const dest: Destination = { id: "ops-mail", kind: "email", host: "smtp.example.com", port: 587, security: "starttls", from: "a@b", to: ["ops@example.com"] };

describe("issue-4 command argument shapes (camelCase args as Tauri passes them)", () => {
  const cases: [string, () => Promise<unknown>, string, Record<string, unknown> | undefined][] = [
    ["alarms_list", () => api.alarmsList(), "alarms_list", undefined],
    ["alarm_ack", () => api.alarmAck("boiler-hot", "ann", "checked"), "alarm_ack", { alarmId: "boiler-hot", user: "ann", comment: "checked" }],
    ["alarm_shelve", () => api.alarmShelve("boiler-hot", 60, "ann", ""), "alarm_shelve", { alarmId: "boiler-hot", minutes: 60, user: "ann", comment: "" }],
    ["alarm_unshelve", () => api.alarmUnshelve("boiler-hot", "ann"), "alarm_unshelve", { alarmId: "boiler-hot", user: "ann" }],
    ["alarm_out_of_service", () => api.alarmOutOfService("boiler-hot", true, "ann", "sensor swap"), "alarm_out_of_service", { alarmId: "boiler-hot", on: true, user: "ann", comment: "sensor swap" }],
    ["rules_list", () => api.rulesList(), "rules_list", undefined],
    ["rule_check", () => api.ruleCheck(rule), "rule_check", { rule }],
    ["rule_save", () => api.ruleSave(rule), "rule_save", { rule }],
    ["rule_delete", () => api.ruleDelete("boiler-hot"), "rule_delete", { id: "boiler-hot" }],
    ["rule_set_enabled", () => api.ruleSetEnabled("boiler-hot", false), "rule_set_enabled", { id: "boiler-hot", enabled: false }],
    ["calcs_list", () => api.calcsList(), "calcs_list", undefined],
    ["calc_check", () => api.calcCheck(calc), "calc_check", { calc }],
    ["calc_save", () => api.calcSave(calc), "calc_save", { calc }],
    ["calc_delete", () => api.calcDelete("total_power"), "calc_delete", { id: "total_power" }],
    ["destinations_list", () => api.destinationsList(), "destinations_list", undefined],
    ["destination_save without secret", () => api.destinationSave(dest), "destination_save", { destination: dest }],
    ["destination_save empty secret is not sent", () => api.destinationSave(dest, ""), "destination_save", { destination: dest }],
    ["destination_save with secret", () => api.destinationSave(dest, "hunter2"), "destination_save", { destination: dest, secret: "hunter2" }],
    ["destination_delete", () => api.destinationDelete("ops-mail"), "destination_delete", { id: "ops-mail" }],
    ["destination_test", () => api.destinationTest("ops-mail"), "destination_test", { id: "ops-mail" }],
    ["journal_query all", () => api.journalQuery({}), "journal_query", {}],
    [
      "journal_query filtered",
      () => api.journalQuery({ from: 1000, to: 2000, alarmId: "boiler-hot", action: "ack", limit: 50 }),
      "journal_query",
      { from: 1000, to: 2000, alarmId: "boiler-hot", action: "ack", limit: 50 },
    ],
    ["journal_query leaves out empty filters", () => api.journalQuery({ from: null, to: 5, alarmId: "", action: null, limit: 10 }), "journal_query", { to: 5, limit: 10 }],
    ["notifications_list", () => api.notificationsList(true), "notifications_list", { unreadOnly: true }],
    ["notifications_list with limit", () => api.notificationsList(false, 100), "notifications_list", { unreadOnly: false, limit: 100 }],
    ["notifications_unread_count", () => api.notificationsUnreadCount(), "notifications_unread_count", undefined],
    ["notification_mark_read", () => api.notificationMarkRead("a@7:raise"), "notification_mark_read", { id: "a@7:raise" }],
    ["notifications_mark_all_read", () => api.notificationsMarkAllRead(), "notifications_mark_all_read", undefined],
  ];
  for (const [name, call, cmd, args] of cases) {
    it(name, async () => {
      await call();
      expect(invoke).toHaveBeenCalledTimes(1);
      const [c, a] = invoke.mock.calls[0];
      expect(c).toBe(cmd);
      expect(a).toEqual(args);
    });
  }

  it("a zero time is a filter, not an empty one", () => {
    expect(compact({ from: 0, alarmId: "" })).toEqual({ from: 0 });
  });
});

describe("refusals as field errors", () => {
  it("passes {field, message[, position]} objects through", () => {
    expect(fieldError({ field: "window.tz", message: "unknown time zone" })).toEqual({ field: "window.tz", message: "unknown time zone" });
    expect(fieldError({ field: "expr", message: "unexpected ')'", position: 7 })).toEqual({ field: "expr", message: "unexpected ')'", position: 7 });
  });
  it("reads the object from JSON text", () => {
    expect(fieldError('{"field":"id","message":"taken"}')).toMatchObject({ field: "id", message: "taken" });
  });
  it("keeps plain messages without a field", () => {
    expect(fieldError("database is locked")).toEqual({ field: null, message: "database is locked" });
    expect(fieldError(new Error("boom"))).toEqual({ field: null, message: "boom" });
  });
});

describe("alarm and notification events", () => {
  it("subscribes to the contract's event names and hands over valid payloads", async () => {
    const alarms: AlarmView[] = [];
    const notes: Note[] = [];
    await events.alarm((a) => alarms.push(a));
    await events.notification((n) => notes.push(n));
    expect(listen.mock.calls.map((c) => c[0])).toEqual(["alarm", "notification"]);
    const onAlarm = listen.mock.calls[0][1] as (e: { payload: unknown }) => void;
    const onNote = listen.mock.calls[1][1] as (e: { payload: unknown }) => void;
    onAlarm({ payload: { alarm_id: "x", active: true } });
    onAlarm({ payload: "garbage" });
    onNote({ payload: { id: 3, title: "t" } });
    onNote({ payload: null });
    expect(alarms.map((a) => a.alarm_id)).toEqual(["x"]);
    expect(notes.map((n) => n.id)).toEqual([3]);
  });
});
