// The cloud commands' argument shapes, the display of the backend's cloud
// figures, the Viewer's overlay list and the `?mock` cloud backend.
import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...a: unknown[]) => invoke(...a) }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn() }));

import { api, type CloudAgent, type CloudChannel } from "../src/api";
import { agentTraffic, backlogText, formatBytes, localTraffic, trafficText } from "../src/cloudfmt";
import { setLang } from "../src/i18n";
import { addOverlay, hasOverlay, MAX_OVERLAY, overlay, overlayExtent, removeOverlay } from "../src/overlay";
import { cloudCommands } from "../src/mock-cloud";

beforeEach(() => {
  invoke.mockReset();
  invoke.mockResolvedValue(null);
  setLang("en");
});

describe("cloud command argument shapes", () => {
  const cases: [() => Promise<unknown>, string, Record<string, unknown> | undefined][] = [
    [() => api.cloudStatus(), "cloud_status", undefined],
    [() => api.cloudSignIn("https://c.example", "acme", "alice", "pw"), "cloud_sign_in", { url: "https://c.example", account: "acme", user: "alice", password: "pw" }],
    [() => api.cloudCode("123456"), "cloud_code", { code: "123456" }],
    [() => api.cloudChangePassword("old", "New12345"), "cloud_change_password", { current: "old", new: "New12345" }],
    [() => api.cloudSignOut(), "cloud_sign_out", undefined],
    [() => api.cloudAgents(), "cloud_agents", undefined],
    [() => api.cloudChannels("a1"), "cloud_channels", { agent: "a1" }],
    [() => api.cloudSeries("7", 0, 1000, 611.6), "cloud_series", { channel: "7", from: 0, to: 1000, buckets: 612 }],
    [() => api.syncStatus(), "sync_status", undefined],
  ];
  for (const [call, cmd, args] of cases) {
    it(cmd, async () => {
      await call();
      expect(invoke).toHaveBeenCalledTimes(1);
      expect(invoke.mock.calls[0][0]).toBe(cmd);
      expect(invoke.mock.calls[0][1]).toEqual(args);
    });
  }
});

const agent = (over: Partial<CloudAgent>): CloudAgent => ({
  id: "a1",
  name: "osaka",
  online: true,
  sync: { last_batch_ms: null, backlog: null, samples: 0, batches: 0, rejected: 0, last_error: null },
  last_batch_age_ms: null,
  traffic_month_bytes: 0,
  traffic_allowance: null,
  traffic_percent: null,
  traffic_warning: false,
  ...over,
});

describe("cloud figures as text", () => {
  it("sizes in powers of 1000", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1234)).toBe("1.23 kB");
    expect(formatBytes(45_600_000)).toBe("45.6 MB");
    expect(formatBytes(5_000_000_000)).toBe("5.00 GB");
    expect(formatBytes(null)).toBe("—");
  });

  it("traffic with the share the backend computed, or just the bytes", () => {
    expect(agentTraffic(agent({ traffic_month_bytes: 950, traffic_allowance: 1000, traffic_percent: 95 }))).toBe("950 B / 1.00 kB (95 %)");
    expect(agentTraffic(agent({ traffic_month_bytes: 950 }))).toBe("950 B");
    expect(trafficText(10, 0, null)).toBe("10 B");
    const s = { enabled: true, connected: true, agent: null, broker: null, backlog_samples: 0, backlog_batches: 0, oldest_ms: null, last_ack_ms: null, month: "2026-11", month_bytes: 900, allowance_bytes: 1000, allowance_plan: null, paused: null, last_error: null };
    expect(localTraffic({ ...s, traffic_percent: 90 })).toBe("900 B / 1.00 kB (90 %)");
    expect(localTraffic({ ...s, allowance_bytes: 0 })).toBe("900 B");
  });

  it("an unknown backlog is a dash, not zero", () => {
    expect(backlogText(null)).toBe("—");
    expect(backlogText(0)).toBe("0");
  });
});

const chan = (id: string, t_first: number | null = 1000, t_last: number | null = 2000): CloudChannel => ({
  id,
  agent: "a1",
  agent_name: "osaka",
  path: `logger1/${id}`,
  unit: null,
  samples: 1,
  t_first,
  t_last,
  label: `acme/osaka · logger1/${id}`,
  site: "acme/osaka",
});

describe("the Viewer's cloud overlay", () => {
  it("adds once, removes, tells listeners and caps the graph", () => {
    overlay.list.length = 0;
    const seen = vi.fn();
    overlay.listeners.add(seen);
    expect(addOverlay(chan("x", 500, 900))).toBe(true);
    expect(addOverlay(chan("x"))).toBe(false);
    expect(hasOverlay("x")).toBe(true);
    expect(overlay.list[0]).toEqual({ id: "x", label: "acme/osaka · logger1/x", site: "acme/osaka", path: "logger1/x", unit: "", tFirst: 500, tLast: 900 });
    expect(addOverlay(chan("y", 100, 3000))).toBe(true);
    expect(overlayExtent()).toEqual({ from: 100, to: 3001 });
    removeOverlay("x");
    expect(hasOverlay("x")).toBe(false);
    expect(seen).toHaveBeenCalledTimes(3);
    overlay.listeners.delete(seen);
    for (let k = 0; k < MAX_OVERLAY + 3; k++) addOverlay(chan(`c${k}`));
    expect(overlay.list.length).toBe(MAX_OVERLAY);
    overlay.list.length = 0;
    expect(overlayExtent()).toBeNull();
  });
});

describe("the ?mock cloud backend", () => {
  it("shows two agents and walks the sign-in steps", () => {
    const list = cloudCommands.cloud_agents({}) as CloudAgent[];
    expect(list.map((a) => a.name)).toEqual(["osaka-line1", "kyoto-lab"]);
    expect(list.some((a) => a.traffic_warning)).toBe(true);
    const chans = cloudCommands.cloud_channels({ agent: "a2" }) as CloudChannel[];
    expect(chans[0].label).toBe("acme/kyoto-lab · dmm1/VDC");
    const s = cloudCommands.cloud_series({ channel: chans[0].id, from: Date.now() - 86_400_000, to: Date.now(), buckets: 100 }) as { t: number[] };
    expect(s.t.length).toBeGreaterThan(50);

    cloudCommands.cloud_sign_out({});
    expect(() => cloudCommands.cloud_agents({})).toThrow(/sign in first/);
    // The service URL and password-policy refusals are the backend's (the mock
    // keeps no copy): src-tauri's cloud_commands_answer_before_sign_in_and_name_bad_input
    // and cloud's auth::password tests check them against the real rules.
    let st = cloudCommands.cloud_sign_in({ url: "https://c.example/", account: "acme", user: "temp", password: "Temp1234" }) as { step: string | null; signed_in: boolean };
    expect(st.step).toBe("password");
    st = cloudCommands.cloud_change_password({ current: "Temp1234", new: "Better123" }) as typeof st;
    expect(st.signed_in).toBe(true);
    st = cloudCommands.cloud_sign_in({ url: "https://c.example", account: "acme", user: "otp", password: "demo" }) as typeof st;
    expect(st.step).toBe("code");
    expect(() => cloudCommands.cloud_code({ code: "000000" })).toThrow(/wrong code/);
    st = cloudCommands.cloud_code({ code: "123 456" }) as typeof st;
    expect(st.signed_in).toBe(true);
  });
});
