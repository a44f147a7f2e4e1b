// The site alarms' texts (issue 16): an acknowledgement as "who · when ·
// comment", and a synced record as one line of the portal's Alarms page.
import { describe, expect, it, vi } from "vitest";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn() }));

import { ackText, alarmName, type SiteAlarm } from "../src/site-alarms";
import { destinationText } from "../src/web/cloud-alarms";
import { recordText } from "../src/web/alarms";
import { setLang } from "../src/i18n";
import { setTimeZone } from "../src/time";

describe("site alarms", () => {
  it("names who acknowledged, when and why", () => {
    setTimeZone("UTC");
    const a: SiteAlarm = {
      alarm_id: "hot",
      name: "Too hot",
      severity: "critical",
      state: "ACKED",
      active: true,
      unacked: false,
      changed_ms: 0,
      since_ms: 0,
      ack: { user: "alice@cloud", t: Date.UTC(2026, 11, 7, 10, 0), comment: "valve closed" },
      pending_ack: null,
    };
    const text = ackText(a);
    expect(text.startsWith("alice@cloud · ")).toBe(true);
    expect(text.endsWith(" · valve closed")).toBe(true);
    expect(ackText({ ...a, ack: null })).toBe("");
  });

  it("reads journal entries, events and cloud alarms", () => {
    const j = recordText({ id: 1, kind: "journal", t: 0, body: { alarm_id: "hot", name: "Too hot", action: "ack", from_state: "UNACK", to_state: "ACKED", user: "bob", comment: "on site" } });
    expect(j.what).toContain("Too hot");
    expect(j.what).toContain("UNACK → ACKED");
    expect([j.who, j.detail]).toEqual(["bob", "on site"]);
    const e = recordText({ id: 2, kind: "event", t: 0, body: { instrument: "log", event: "disconnected", message: "reset" } });
    expect(e).toEqual({ what: "log · disconnected", who: "", detail: "reset" });
    // An event sent as key and arguments reads in the portal's language.
    const text = { key: "evt.pollFailed", args: { error: { key: "driver.closed", args: { target: "10.0.0.5:5025" } } } };
    setLang("de");
    const de = recordText({ id: 4, kind: "event", t: 0, body: { instrument: "log", event: "error", message: "poll failed: …", text } });
    setLang("en");
    expect(de.detail).toBe("Abfrage fehlgeschlagen: 10.0.0.5:5025: Verbindung vom Messgerät geschlossen");
    expect(de.what).toBe("log · Fehler");
    const c = recordText({ id: 3, kind: "cloud_alarm", t: 0, body: { alarm: "agent_offline", message: "silent" } });
    expect(c).toEqual({ what: "Agent offline (cloud)", who: "", detail: "silent" });
  });

  it("words the cloud's own alarms and their destinations", () => {
    const base = { severity: "high", state: "UNACK", active: true, unacked: true, changed_ms: 0, since_ms: 0, ack: null, pending_ack: null };
    expect(alarmName({ ...base, alarm_id: "cloud-abc", name: "agent_offline" })).toBe("Agent offline (cloud)");
    expect(alarmName({ ...base, alarm_id: "hot", name: "Too hot" })).toBe("Too hot");
    setLang("de");
    expect(alarmName({ ...base, alarm_id: "cloud-x", name: "traffic_100" })).toBe("Datenvolumen aufgebraucht (Cloud)");
    setLang("en");
    expect(destinationText({ id: "m", kind: "email", name: null, admins: true, addresses: ["ops@acme.test"], url_masked: null })).toBe("Email: the account's admins, ops@acme.test");
    expect(destinationText({ id: "s", kind: "slack", name: "Ops", admins: false, addresses: [], url_masked: "https://hooks.slack.com/…" })).toBe("Ops · Slack: https://hooks.slack.com/…");
  });
});
