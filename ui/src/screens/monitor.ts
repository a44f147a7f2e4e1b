import { api, errorText, type LatestView, type LiveEvent } from "../api";
import { clear, h } from "../dom";
import { formatValue, specialBadge } from "../format";
import { markFresh } from "../fresh";
import { t, tDyn } from "../i18n";
import { app, stateDot, type Screen } from "../state";
import { formatAge, formatDateTime } from "../time";

interface Row {
  tr: HTMLTableRowElement;
  value: HTMLTableCellElement;
  unit: HTMLTableCellElement;
  time: HTMLTableCellElement;
  age: HTMLTableCellElement;
  t: number | null;
}

export function monitorScreen(): Screen {
  const err = h("div", { class: "error", hidden: true });
  const body = h("tbody");
  const empty = h("div", { class: "empty", hidden: true }, t("monitor.empty"));
  const table = h(
    "table",
    { class: "grid monitor-table" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", {}, t("monitor.channel")),
        h("th", { class: "num" }, t("monitor.value")),
        h("th", {}, t("monitor.unit")),
        h("th", {}, t("monitor.time")),
        h("th", { class: "num" }, t("monitor.age")),
      ),
    ),
    body,
  );
  const root = h(
    "section",
    { class: "screen", testid: "screen-monitor" },
    h("div", { class: "toolbar" }, h("h2", {}, t("monitor.title")), h("span", { class: "spacer" })),
    err,
    empty,
    h("div", { class: "scroll" }, table),
  );

  const rows = new Map<string, Row>();
  const groups = new Map<string, { tr: HTMLTableRowElement; state: HTMLSpanElement; last: HTMLTableRowElement }>();

  function groupHeader(instrument: string): { tr: HTMLTableRowElement; state: HTMLSpanElement; last: HTMLTableRowElement } {
    let g = groups.get(instrument);
    if (g) return g;
    const inst = app.instruments.find((i) => i.config.id === instrument);
    const state = h("span", { class: "group-state" });
    const tr = h(
      "tr",
      { class: "group-row", "data-instrument": instrument },
      h("td", { colspan: 5 }, state, h("strong", {}, inst?.config.name || instrument), " ", h("span", { class: "muted" }, inst?.config.name && inst.config.name !== instrument ? instrument : "")),
    );
    body.append(tr);
    g = { tr, state, last: tr };
    groups.set(instrument, g);
    paintGroup(instrument);
    return g;
  }

  function paintGroup(instrument: string): void {
    const g = groups.get(instrument);
    if (!g) return;
    const inst = app.instruments.find((i) => i.config.id === instrument);
    clear(g.state);
    if (inst) {
      g.state.append(stateDot(inst.state), tDyn(`state.${inst.state}`, inst.state));
      if (inst.fastUntil && inst.fastUntil > Date.now()) {
        g.state.append(h("span", { class: "chip" }, t("monitor.fastUntil", { t: formatDateTime(inst.fastUntil) })));
      }
    }
  }

  function setValue(r: Row, value: number | null, special: string | null): void {
    clear(r.value);
    if (special) r.value.append(specialBadge(special));
    else if (value !== null) r.value.textContent = formatValue(value);
    else r.value.append(specialBadge("no-data"));
  }

  function ensureRow(path: string, instrument: string, channel: string, unit: string | null): Row {
    let r = rows.get(path);
    if (r) return r;
    const g = groupHeader(instrument);
    const value = h("td", { class: "num value", testid: "monitor-value" });
    const unitTd = h("td", { class: "unit", testid: "monitor-unit" }, unit ?? "");
    const time = h("td", { class: "num time" });
    const age = h("td", { class: "num age", testid: "monitor-age" });
    const tr = h("tr", { testid: "monitor-row", "data-path": path }, h("td", { class: "channel" }, channel), value, unitTd, time, age);
    g.last.after(tr);
    g.last = tr;
    r = { tr, value, unit: unitTd, time, age, t: null };
    rows.set(path, r);
    empty.hidden = true;
    return r;
  }

  function paintTime(r: Row): void {
    r.time.textContent = r.t === null ? t("common.none") : formatDateTime(r.t);
    r.age.textContent = formatAge(r.t);
    r.tr.classList.toggle("stale", r.t !== null && Date.now() - r.t > 3 * 60_000);
  }

  function apply(l: LatestView): void {
    const r = ensureRow(l.path, l.instrument, l.channel, l.unit);
    r.unit.textContent = l.unit ?? "";
    r.t = l.t;
    setValue(r, l.value, l.special);
    paintTime(r);
  }

  async function load(): Promise<void> {
    try {
      const first = app.startLatest;
      app.startLatest = null;
      const latest = first ?? (await api.latest());
      err.hidden = true;
      clear(body);
      rows.clear();
      groups.clear();
      const order = new Map(app.instruments.map((i, n) => [i.config.id, n]));
      latest.sort((a, b) => (order.get(a.instrument) ?? 1e9) - (order.get(b.instrument) ?? 1e9) || a.instrument.localeCompare(b.instrument));
      for (const l of latest) apply(l);
      empty.hidden = latest.length > 0;
    } catch (e) {
      err.textContent = errorText(e);
      err.hidden = false;
    }
  }

  app.listeners.add(() => {
    for (const id of groups.keys()) paintGroup(id);
  });

  return {
    root,
    show: () => void load(),
    onLive(e: LiveEvent) {
      if (e.type === "readings") {
        for (const v of e.values) {
          const path = `${e.instrument}/${v.channel}`;
          const r = ensureRow(path, e.instrument, v.channel, v.unit);
          if (v.unit !== null) r.unit.textContent = v.unit;
          r.t = e.t;
          setValue(r, v.value, v.special);
          paintTime(r);
          markFresh(r.value);
        }
      } else if (e.type === "state" || e.type === "fast-monitor") {
        paintGroup(e.instrument);
      }
    },
    tick() {
      for (const r of rows.values()) paintTime(r);
    },
  };
}
