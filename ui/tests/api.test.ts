import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
const listen = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...a: unknown[]) => invoke(...a) }));
vi.mock("@tauri-apps/api/event", () => ({ listen: (...a: unknown[]) => listen(...a) }));

import { api, errorText, events, parseLive, type InstrumentConfig } from "../src/api";

beforeEach(() => {
  invoke.mockReset();
  invoke.mockResolvedValue(null);
  listen.mockReset();
  listen.mockResolvedValue(() => {});
});

const cfg: InstrumentConfig = { id: "dmm", family: "scpi", transport: { kind: "tcp", host: "10.0.0.5", port: 5025 }, channel: [{ id: "V", unit: "V", query: "MEAS?" }] };

describe("command argument shapes", () => {
  const cases: [string, () => Promise<unknown>, string, Record<string, unknown> | undefined][] = [
    ["app_state", () => api.appState(), "app_state", undefined],
    ["save_settings", () => api.saveSettings({ language: "ja", timezone: "Asia/Tokyo", theme: "dark" }), "save_settings", { settings: { language: "ja", timezone: "Asia/Tokyo", theme: "dark" } }],
    ["list_instruments", () => api.listInstruments(), "list_instruments", undefined],
    ["save_instrument new", () => api.saveInstrument(cfg, null), "save_instrument", { config: cfg, replaceId: null }],
    ["save_instrument edit", () => api.saveInstrument(cfg, "old"), "save_instrument", { config: cfg, replaceId: "old" }],
    ["remove_instrument", () => api.removeInstrument("dmm"), "remove_instrument", { id: "dmm" }],
    ["identify", () => api.identify("dmm"), "identify", { id: "dmm" }],
    ["discover_lan", () => api.discoverLan("10.0.0.1-9", [5025, 502], 300), "discover_lan", { hosts: "10.0.0.1-9", ports: [5025, 502], timeoutMs: 300 }],
    ["list_serial_ports", () => api.listSerialPorts(), "list_serial_ports", undefined],
    ["probe_serial", () => api.probeSerial(["/dev/ttyUSB0"], 9600), "probe_serial", { paths: ["/dev/ttyUSB0"], baud: 9600 }],
    ["set_fast_monitor", () => api.setFastMonitor("dmm", true), "set_fast_monitor", { id: "dmm", on: true }],
    ["latest", () => api.latest(), "latest", undefined],
    ["channels", () => api.channels(), "channels", undefined],
    ["series", () => api.series([1, 2], 1000, 2000, 640.4), "series", { channelIds: [1, 2], from: 1000, to: 2000, width: 640 }],
    ["seriesExtent", () => api.seriesExtent([3]), "series_extent", { channelIds: [3] }],
    ["table", () => api.table([3], 10, 20, 500), "table", { channelIds: [3], from: 10, to: 20, limit: 500 }],
    ["export", () => api.exportData([1], 0, 99, "/tmp/x.zip"), "export", { channelIds: [1], from: 0, to: 99, path: "/tmp/x.zip" }],
    ["console_acquire", () => api.consoleAcquire("dmm", "ann"), "console_acquire", { instrument: "dmm", operator: "ann" }],
    ["console_send", () => api.consoleSend("dmm", "ann", "*IDN?"), "console_send", { instrument: "dmm", operator: "ann", command: "*IDN?" }],
    ["console_release", () => api.consoleRelease("dmm", "ann"), "console_release", { instrument: "dmm", operator: "ann" }],
    ["events", () => api.events(null, "error", 100), "events", { instrument: null, kind: "error", limit: 100 }],
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

  it("series width is at least 1 pixel", async () => {
    await api.series([1], 0, 1, 0);
    expect(invoke.mock.calls[0][1]).toMatchObject({ width: 1 });
  });

  it("passes backend error strings through", async () => {
    invoke.mockRejectedValueOnce("held by bob since 2026-01-01 10:00:00");
    await expect(api.consoleAcquire("dmm", "ann")).rejects.toBe("held by bob since 2026-01-01 10:00:00");
    expect(errorText("poll interval must be between 1 s and 1 h")).toBe("poll interval must be between 1 s and 1 h");
    expect(errorText(new Error("boom"))).toBe("boom");
  });
});

describe("events", () => {
  it("subscribes to the contract's event names", async () => {
    await events.live(() => {});
    await events.instrumentState(() => {});
    await events.exportProgress(() => {});
    expect(listen.mock.calls.map((c) => c[0])).toEqual(["live", "instrument-state", "export-progress"]);
  });

  it("normalises live readings in the usual serde shapes", () => {
    const values = [
      { channel: "V", unit: "V", value: { number: 1.5 } },
      { channel: "T", unit: null, value: { special: "over-range" } },
    ];
    for (const payload of [
      { type: "readings", instrument: "dmm", t: 5, values },
      { kind: "readings", instrument: "dmm", t: 5, values },
      { Readings: { instrument: "dmm", t: 5, values } },
    ]) {
      expect(parseLive(payload)).toEqual({
        type: "readings",
        instrument: "dmm",
        t: 5,
        values: [
          { channel: "V", unit: "V", value: 1.5, special: null },
          { channel: "T", unit: null, value: null, special: "over-range" },
        ],
      });
    }
    expect(parseLive({ type: "readings", instrument: "a", t: 1, values: [{ channel: "x", unit: null, value: 2, special: null }] })).toMatchObject({ values: [{ value: 2, special: null }] });
    expect(parseLive({ State: { instrument: "a", state: "error", reason: "refused" } })).toEqual({ type: "state", instrument: "a", state: "error", reason: "refused" });
    expect(parseLive({ type: "fast-monitor", instrument: "a", until: 9 })).toEqual({ type: "fast-monitor", instrument: "a", until: 9 });
    expect(parseLive(42)).toEqual({ type: "unknown" });
  });
});
