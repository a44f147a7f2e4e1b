// A value read-out: the number (or its special-value badge), unit, age,
// tinted by the channel's most urgent active alarm. Used by the value
// panels, the graph+value panels and the values placed on images.
import { clear, h } from "../dom";
import { formatValue, specialBadge } from "../format";
import { markFresh } from "../fresh";
import { t } from "../i18n";
import { formatAge } from "../time";
import { alarmSeverity, type PanelAlarm, type Reading } from "./source";

/** Older than this a value is drawn as stale. */
export const STALE_MS = 3 * 60_000;

export interface ValueTile {
  el: HTMLElement;
  set(r: Reading | null): void;
  alarms(list: PanelAlarm[]): void;
  tick(now: number): void;
}

/** `fresh: false`: no tint on a new value (it would cost a second paint a second). */
export function valueTile(path: string, opts: { compact?: boolean; fresh?: boolean } = {}): ValueTile {
  const name = h("span", { class: "vt-name", title: path }, path.split("/").pop() ?? path);
  const num = h("span", { class: "vt-value num", testid: "panel-value" });
  const unit = h("span", { class: "vt-unit", testid: "panel-unit" });
  const age = h("span", { class: "vt-age num", testid: "panel-age" });
  const el = h(
    "div",
    { class: `value-tile${opts.compact ? " compact" : ""}`, "data-path": path, testid: "value-tile" },
    name,
    h("span", { class: "vt-reading" }, num, unit),
    age,
  );
  let last: Reading | null = null;
  const tile: ValueTile = {
    el,
    set(r) {
      const changed = r !== null && (last === null || r.t !== last.t);
      last = r;
      clear(num);
      if (!r || r.t === null) num.append(specialBadge("no-data"));
      else if (r.special) num.append(specialBadge(r.special));
      else if (r.value !== null) num.textContent = formatValue(r.value);
      else num.append(specialBadge("no-data"));
      unit.textContent = r?.unit ?? "";
      el.dataset.t = r?.t == null ? "" : String(r.t);
      tile.tick(Date.now());
      if (changed && opts.fresh !== false) markFresh(num);
    },
    alarms(list) {
      const sev = alarmSeverity(list, path);
      el.dataset.alarm = sev ?? "";
      el.title = sev ? t("dash.alarmOn", { severity: sev }) : path;
    },
    tick(now) {
      // Written only when it reads differently: every write is a repaint.
      const text = last?.t == null ? "" : formatAge(last.t, now);
      if (age.textContent !== text) age.textContent = text;
      el.classList.toggle("stale", last?.t != null && now - last.t > STALE_MS);
    },
  };
  return tile;
}
