// One panel's content by kind, over a PanelSource: value tiles, a graph,
// an image with placed values, an alarm list. The board (board.ts) frames
// and positions it.
import { h } from "../dom";
import { t } from "../i18n";
import type { Panel, Placement } from "../bindings";
import { alarmListView } from "./alarms";
import { graphView, type GraphView } from "./graph";
import { imageView } from "./image";
import type { PanelSource, SourceUpdate } from "./source";
import { valueTile, type ValueTile } from "./values";

export interface PanelBody {
  el: HTMLElement;
  /** Loads what the panel shows (on show, and after a resize). */
  load(): void;
  update(u: SourceUpdate): void;
  tick(now: number): void;
  destroy(): void;
}

const WINDOW_MS = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000 } as const;

export function panelBody(p: Panel, src: PanelSource, units: Map<string, string | null>, onPlace: (placements: Placement[]) => void): PanelBody {
  const tiles = new Map<string, ValueTile>();
  // Channels the viewer may not see are never asked for: the panel says so.
  const denied = p.channels.filter((c) => src.denied?.(c) ?? false);
  const channels = p.channels.filter((c) => !denied.includes(c));
  const withTiles = p.kind === "value" || p.kind === "graph-value" || p.kind === "image-values";
  if (withTiles) for (const c of channels) tiles.set(c, valueTile(c, { compact: p.kind !== "value", fresh: false }));
  let graph: GraphView | null = null;
  if ((p.kind === "graph" || p.kind === "graph-value") && channels.length) {
    graph = graphView(channels, units, p.window, WINDOW_MS[p.window], (paths, from, to, width) => src.series(paths, from, to, width));
  }
  const err = h("div", { class: "error small", hidden: true });
  const el = h("div", { class: `panel-body kind-${p.kind}` }, err);
  if (denied.length) {
    el.append(h("div", { class: "no-access muted small", testid: "panel-no-access", title: denied.join("\n") }, t("dash.noAccess", { n: denied.length })));
  }
  const alarms = p.kind === "alarm-list" ? alarmListView(p.rules, p.channels, (id, user) => src.ack(id, user), () => src.lastUser()) : null;
  const image = p.kind === "image" || p.kind === "image-values" ? imageView(p.kind === "image-values", onPlace) : null;

  if (p.kind === "value") el.append(h("div", { class: "value-grid" }, [...tiles.values()].map((x) => x.el)));
  if (p.kind === "graph-value" && graph) el.append(h("div", { class: "value-strip" }, [...tiles.values()].map((x) => x.el)), graph.el);
  if (p.kind === "graph" && graph) el.append(graph.el);
  if (alarms) el.append(alarms.el);
  if (image) {
    el.append(image.el);
    image.place(tiles, p.placements);
  }

  function fail(e: unknown): void {
    err.textContent = `${t("dash.loadFailed")}: ${String(e)}`;
    err.hidden = false;
  }

  function fill(): void {
    const all = src.alarms();
    for (const [path, tile] of tiles) {
      tile.set(src.latest(path));
      tile.alarms(all);
    }
    alarms?.set(all);
  }

  return {
    el,
    load() {
      fill();
      if (graph) void graph.load().catch(fail);
      if (image && p.image) src.imageUrl(p.image).then((url) => image.setUrl(url), fail);
    },
    update(u) {
      if (u.type === "alarms") {
        const all = src.alarms();
        for (const tile of tiles.values()) tile.alarms(all);
        alarms?.set(all);
        return;
      }
      for (const r of u.readings) {
        tiles.get(r.path)?.set(r);
        if (graph && r.t !== null && channels.includes(r.path)) graph.append(r.path, r.t, r.special ? null : r.value);
      }
    },
    tick(now) {
      for (const tile of tiles.values()) tile.tick(now);
      graph?.tick(now);
    },
    destroy() {
      graph?.destroy();
    },
  };
}
