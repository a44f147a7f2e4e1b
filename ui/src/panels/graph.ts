// A graph of one to eight channels over the last hour, day or week: the
// source's downsampled series once, then live readings appended as they
// arrive and the window refetched now and then (the source downsamples).
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { h } from "../dom";
import { formatValue } from "../format";
import { align, PALETTE, timeLabels, type PlotInput } from "../plot";
import { getTimeZone } from "../time";
import type { Series } from "./source";

const REFETCH_MS: Record<string, number> = { hour: 60_000, day: 600_000, week: 1_800_000 };

export interface GraphView {
  el: HTMLElement;
  /** Fetches the window again (shown, resized, or the refetch is due). */
  load(): Promise<void>;
  append(path: string, t: number, value: number | null): void;
  /** Redraws if anything changed; refetches when due. */
  tick(now: number): void;
  destroy(): void;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export function graphView(
  paths: string[],
  units: Map<string, string | null>,
  windowName: "hour" | "day" | "week",
  windowMs: number,
  fetch: (paths: string[], from: number, to: number, width: number) => Promise<Series[]>,
): GraphView {
  const host = h("div", { class: "graph-host", testid: "panel-graph" });
  const el = h("div", { class: "graph-wrap" }, host);
  let u: uPlot | null = null;
  let views: Series[] = [];
  let dirty = false;
  /** When the plot was last drawn: live data redraws it once a pixel's worth of time has passed. */
  let drawnAt = 0;
  let fetchedAt = 0;
  let loading = false;
  let lastW = 0;
  let lastH = 0;
  /** The x range shown: the window ending now (moved on at each redraw). */
  let xr: [number, number] = [0, 1];
  // What is drawn, for the window tests: `host.uplot.data`.
  Object.defineProperty(host, "uplot", { get: () => u });

  const ro = new ResizeObserver(() => {
    const { width, height } = size();
    if (!u || (width === lastW && height === lastH)) return;
    lastW = width;
    lastH = height;
    u.setSize({ width, height });
  });
  ro.observe(el);

  function size(): { width: number; height: number } {
    return { width: Math.max(120, el.clientWidth), height: Math.max(60, el.clientHeight) };
  }

  function inputs(): PlotInput[] {
    return views.map((v, i) => ({
      key: v.path,
      label: v.path,
      unit: units.get(v.path) ?? "",
      color: PALETTE[i % PALETTE.length],
      view: { channelId: i, raw: v.raw, t: v.t, min: v.min, max: v.max },
    }));
  }

  function build(now: number): void {
    u?.destroy();
    u = null;
    const ins = inputs();
    if (!ins.length) return;
    const fg = cssVar("--fg-muted", "#888");
    const grid = cssVar("--grid", "rgba(128,128,128,.15)");
    const series: uPlot.Series[] = [{}];
    const bands: uPlot.Band[] = [];
    const unitList = [...new Set(ins.map((i) => i.unit))];
    let n = 1;
    for (const i of ins) {
      const scale = `u:${i.unit}`;
      if (i.view.raw) {
        series.push({ label: i.label, scale, stroke: i.color, width: 1.5, points: { show: false } });
        n += 1;
      } else {
        series.push({ label: i.label, scale, stroke: i.color, width: 1, points: { show: false } });
        series.push({ label: i.label, scale, stroke: i.color, width: 1, points: { show: false } });
        bands.push({ series: [n, n + 1], fill: `${i.color}40` });
        n += 2;
      }
    }
    xr = [now - windowMs, now];
    const scales: uPlot.Scales = { x: { time: true, range: () => xr } };
    const axes: uPlot.Axis[] = [
      { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { show: false }, size: 34, space: 70, values: (_u, s, _a, _sp, incr) => timeLabels(s, incr) },
    ];
    unitList.forEach((unit, k) => {
      scales[`u:${unit}`] = {
        range: (_u, lo, hi): uPlot.Range.MinMax => {
          if (lo === null || hi === null || !Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
          const pad = lo === hi ? Math.abs(lo) * 0.05 || 1 : (hi - lo) * 0.08;
          return [lo - pad, hi + pad];
        },
      };
      axes.push({ scale: `u:${unit}`, side: k % 2 === 0 ? 3 : 1, stroke: fg, size: 48, grid: { show: k === 0, stroke: grid, width: 1 }, ticks: { show: false }, values: (_u, s) => s.map((v) => formatValue(v)), label: k < 2 ? unit : undefined, labelSize: unit ? 14 : 0 });
    });
    const { xs, cols } = align(ins);
    const tz = getTimeZone();
    const { width, height } = size();
    lastW = width;
    lastH = height;
    u = new uPlot(
      { width, height, ms: 1, tzDate: (ts) => uPlot.tzDate(new Date(ts), tz), series, bands, scales, axes, legend: { show: false }, cursor: { show: true, points: { show: false }, drag: { x: false, y: false } } },
      [xs, ...cols] as unknown as uPlot.AlignedData,
      host,
    );
    dirty = false;
    drawnAt = now;
  }

  function redraw(now: number): void {
    const from = now - windowMs;
    for (const v of views) {
      let k = 0;
      while (k < v.t.length && v.t[k] < from) k++;
      if (k > 0) {
        v.t.splice(0, k);
        v.min.splice(0, k);
        v.max.splice(0, k);
      }
    }
    if (!u) {
      build(now);
      return;
    }
    const { xs, cols } = align(inputs());
    const plot = u;
    xr = [from, now];
    // One redraw for the new data and the window moved on.
    plot.batch(() => {
      plot.setData([xs, ...cols] as unknown as uPlot.AlignedData, false);
      plot.setScale("x", { min: from, max: now });
    });
    dirty = false;
    drawnAt = now;
  }

  /** The time one pixel of the plot covers (12 s for an hour on 300 px), at least a second: redrawing
   *  sooner moves nothing visibly, and a board of graphs redrawn every second kept a core busy. */
  function pixelMs(): number {
    return Math.max(1000, windowMs / Math.max(50, el.clientWidth - 60));
  }

  const view: GraphView = {
    el,
    async load() {
      if (loading) return;
      loading = true;
      try {
        const now = Date.now();
        const width = Math.max(50, el.clientWidth - 60);
        views = await fetch(paths, now - windowMs, now, width);
        fetchedAt = now;
        build(now);
      } finally {
        loading = false;
      }
    },
    append(path, t, value) {
      const v = views.find((s) => s.path === path);
      if (!v || (v.t.length && t <= v.t[v.t.length - 1])) return;
      v.t.push(t);
      v.min.push(value);
      v.max.push(value);
      dirty = true;
    },
    tick(now) {
      if (now - fetchedAt > (REFETCH_MS[windowName] ?? 60_000)) {
        void view.load().catch(() => undefined);
        return;
      }
      if (dirty && now - drawnAt >= pixelMs()) redraw(now);
    },
    destroy() {
      ro.disconnect();
      u?.destroy();
      u = null;
    },
  };
  return view;
}
