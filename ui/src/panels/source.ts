// What a panel reads, whoever serves it: the desktop app (over its Tauri
// commands and live events, see screens/dashboard-source.ts) or the cloud
// portal (over its Web API). Panels import nothing else that knows where
// data comes from.
import type { Severity } from "../bindings";

export interface Reading {
  path: string;
  unit: string | null;
  /** When it was measured (ms); null when nothing was ever stored. */
  t: number | null;
  value: number | null;
  /** `over-range`, `burn-out`, ...: shown as a badge instead of a number. */
  special: string | null;
}

/** One channel over a window: raw points (`min == max`) or one min/max
 * bucket per pixel column, downsampled by the server like the Viewer's. */
export interface Series {
  path: string;
  raw: boolean;
  t: number[];
  min: (number | null)[];
  max: (number | null)[];
}

export interface PanelAlarm {
  id: string;
  rule: string;
  name: string;
  severity: Severity;
  active: boolean;
  acked: boolean;
  since: number;
  value: string | null;
  message: string | null;
  /** The channels the alarm's rule watches (`instrument/channel`). */
  channels: string[];
}

export type SourceUpdate = { type: "readings"; readings: Reading[] } | { type: "alarms" };

export interface PanelSource {
  /** Channels a panel may show (`label`: how to name it, when not its path). */
  channels(): Promise<{ path: string; unit: string | null; label?: string }[]>;
  /** The newest reading of a channel, if known. */
  latest(path: string): Reading | null;
  series(paths: string[], from: number, to: number, width: number): Promise<Series[]>;
  alarms(): PanelAlarm[];
  /** Acknowledges as `user` (the journal names who did). */
  ack(alarmId: string, user: string): Promise<void>;
  /** The name last used to acknowledge, to prefill. */
  lastUser(): string;
  /** A URL an `<img>` can show for a kept image. */
  imageUrl(name: string): Promise<string>;
  /** The viewer may not see this channel (the portal: not granted to
   *  them): its panel says "no access" instead of showing it. */
  denied?(path: string): boolean;
  /** Live updates; returns the unsubscribe. */
  subscribe(fn: (u: SourceUpdate) => void): () => void;
}

/** Severities from the most urgent. */
const ORDER: Severity[] = ["critical", "high", "medium", "low"];

/** The most urgent active alarm's severity on `path`, or null. */
export function alarmSeverity(alarms: PanelAlarm[], path: string): Severity | null {
  let best: Severity | null = null;
  for (const a of alarms) {
    if (!a.active || !a.channels.includes(path)) continue;
    if (best === null || ORDER.indexOf(a.severity) < ORDER.indexOf(best)) best = a.severity;
  }
  return best;
}

/** The alarms an alarm-list panel shows: active or unacknowledged, of its
 * rules and channels (none chosen = all), most urgent and newest first. */
export function alarmsFor(alarms: PanelAlarm[], rules: string[], channels: string[]): PanelAlarm[] {
  return alarms
    .filter((a) => a.active || !a.acked)
    .filter((a) => (!rules.length && !channels.length) || rules.includes(a.rule) || a.channels.some((c) => channels.includes(c)))
    .sort((a, b) => ORDER.indexOf(a.severity) - ORDER.indexOf(b.severity) || b.since - a.since);
}
