// The desktop app's PanelSource: the window's commands (latest values,
// series downsampled by core, image data, alarm ack) and its live events,
// fed in by the Dashboard screen (no panel listens or polls on its own).
import { api, type AlarmView, type LiveEvent, type Rule } from "../api";
import type { PanelAlarm, PanelSource, Reading, Series, SourceUpdate } from "../panels/source";
import { app } from "../state";
import { rememberedUser, rememberUser } from "./alarms";

export interface DeskSource extends PanelSource {
  /** Loads the latest values, channel ids and rules (on show). */
  refresh(): Promise<void>;
  /** A `live` event of the window: kept until the next `flush`. */
  feed(e: LiveEvent): void;
  /** Hands the readings fed since the last flush to the panels as one update. */
  flush(): void;
  /** The alarms changed (the window's `alarm` event). */
  alarmsChanged(): void;
  units(): Map<string, string | null>;
}

/** The channels an alarm watches: its rule's, and the one in its id (`rule:instrument/channel`). */
export function alarmChannels(a: AlarmView, rules: Rule[]): string[] {
  const out = new Set<string>();
  const r = rules.find((x) => x.id === a.rule_id);
  if (r?.channel) out.add(r.channel);
  if (r?.second?.channel) out.add(r.second.channel);
  const k = a.alarm_id.indexOf(":");
  if (k > 0 && a.alarm_id.slice(k + 1).includes("/")) out.add(a.alarm_id.slice(k + 1));
  return [...out];
}

export function deskSource(): DeskSource {
  const latest = new Map<string, Reading>();
  const ids = new Map<string, number>();
  const units = new Map<string, string | null>();
  let rules: Rule[] = [];
  const listeners = new Set<(u: SourceUpdate) => void>();
  const emit = (u: SourceUpdate): void => {
    for (const l of listeners) l(u);
  };
  const imageCache = new Map<string, Promise<string>>();
  // Readings wait for the screen's once-a-second tick: instruments answer at
  // their own moments, and each update painted on arrival was a frame of its
  // own (software rendering without a GPU spends most of its time per frame).
  let pending: Reading[] = [];

  return {
    async refresh() {
      const [rows, chans, rs] = await Promise.all([api.latest(), api.channels(), api.rulesList().catch(() => [] as Rule[])]);
      rules = rs;
      for (const c of chans) {
        ids.set(`${c.instrument}/${c.channel}`, c.id);
        units.set(`${c.instrument}/${c.channel}`, c.unit);
      }
      for (const l of rows) {
        latest.set(l.path, { path: l.path, unit: l.unit, t: l.t, value: l.value, special: l.special });
        units.set(l.path, l.unit);
      }
    },
    feed(e) {
      if (e.type !== "readings") return;
      for (const v of e.values) {
        const r: Reading = { path: `${e.instrument}/${v.channel}`, unit: v.unit, t: e.t, value: v.value, special: v.special };
        latest.set(r.path, r);
        if (r.unit !== null) units.set(r.path, r.unit);
        // A graph keeps every reading; a value shows the newest.
        pending.push(r);
      }
    },
    flush() {
      if (!pending.length) return;
      const readings = pending;
      pending = [];
      emit({ type: "readings", readings });
    },
    alarmsChanged() {
      emit({ type: "alarms" });
    },
    units: () => units,
    async channels() {
      if (!ids.size) await this.refresh();
      return [...ids.keys()].sort().map((path) => ({ path, unit: units.get(path) ?? null }));
    },
    latest: (path) => latest.get(path) ?? null,
    async series(paths, from, to, width): Promise<Series[]> {
      if (paths.some((p) => !ids.has(p))) await this.refresh();
      const known = paths.filter((p) => ids.has(p));
      const views = await api.series(known.map((p) => ids.get(p)!), from, to, width);
      const pathOf = new Map(known.map((p) => [ids.get(p)!, p]));
      return views.map((v) => ({ path: pathOf.get(v.channelId) ?? "", raw: v.raw, t: v.t, min: v.min, max: v.max }));
    },
    alarms(): PanelAlarm[] {
      return app.alarms.map((a) => ({
        id: a.alarm_id,
        rule: a.rule_id,
        name: a.name,
        severity: a.severity,
        active: a.active,
        acked: a.acked,
        since: a.since,
        value: a.value,
        message: a.message,
        channels: alarmChannels(a, rules),
      }));
    },
    async ack(id, user) {
      rememberUser(user);
      await api.alarmAck(id, user, "");
    },
    lastUser: () => rememberedUser(),
    imageUrl(name) {
      let p = imageCache.get(name);
      if (!p) {
        p = api.dashboardImage(name);
        p.catch(() => imageCache.delete(name));
        imageCache.set(name, p);
      }
      return p;
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}
