// uPlot wrapper: several channels, one y axis per unit, min/max bands for
// downsampled data, drag-to-zoom (the owner refetches), cursor read-out and a
// comparison range drawn shifted onto the main one.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { SeriesView } from "./api";
import { h, clear } from "./dom";
import { formatValue } from "./format";
import { t } from "./i18n";
import { formatDateTimeMs, getTimeZone } from "./time";

const DAY = 86_400_000;

/** 24-hour tick labels in the settings' zone; the date is added under the
 * first tick and wherever the day changes. */
export function timeLabels(splits: number[], incr: number): string[] {
  let lastDay = "";
  return splits.map((ts) => {
    const full = formatDateTimeMs(ts);
    const day = full.slice(0, 10);
    if (incr >= DAY) return day;
    const time = incr < 1000 ? full.slice(11, 23) : incr < 60_000 ? full.slice(11, 19) : full.slice(11, 16);
    const withDay = day !== lastDay ? `${time}\n${day.slice(5)}` : time;
    lastDay = day;
    return withDay;
  });
}

export const PALETTE = ["#2f7ed8", "#e4572e", "#29a35a", "#a65dd6", "#d9a300", "#17a2b8", "#d6336c", "#6c757d", "#8c564b", "#1f3a93"];

export interface PlotInput {
  key: string;
  label: string;
  unit: string;
  color: string;
  view: SeriesView;
  /** The comparison range, already shifted onto the main time axis. */
  compare?: boolean;
}

export interface AxisSetting {
  mode: "auto" | "fixed";
  min: number | null;
  max: number | null;
}

export interface PlotOptions {
  /** Called with the selected range after a drag; the owner refetches with `width`. */
  onZoom(from: number, to: number, width: number): void;
  /** Double click: the owner goes back to the previous range. */
  onZoomOut(): void;
}

interface Logical {
  input: PlotInput;
  /** uPlot series indices: [line] (raw) or [max, min] (bands). */
  idx: number[];
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

function alpha(hex: string, a: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) return hex;
  const n = parseInt(m[1], 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}

/** Union of all time stamps; a series has `undefined` where it has no sample
 * (spanned by uPlot) and `null` where it has a gap (a special value). */
export function align(inputs: PlotInput[]): { xs: number[]; cols: (number | null | undefined)[][] } {
  const set = new Set<number>();
  for (const i of inputs) for (const t of i.view.t) set.add(t);
  const xs = [...set].sort((a, b) => a - b);
  const pos = new Map(xs.map((x, n) => [x, n]));
  const cols: (number | null | undefined)[][] = [];
  for (const i of inputs) {
    const parts = i.view.raw ? [i.view.min] : [i.view.max, i.view.min];
    for (const arr of parts) {
      const col: (number | null | undefined)[] = new Array(xs.length).fill(undefined);
      i.view.t.forEach((t, n) => {
        const p = pos.get(t);
        if (p !== undefined) col[p] = arr[n] ?? null;
      });
      cols.push(col);
    }
  }
  return { xs, cols };
}

export class Plot {
  private u: uPlot | null = null;
  private logical: Logical[] = [];
  private ro: ResizeObserver;
  readonly el: HTMLElement;

  constructor(
    private container: HTMLElement,
    private readout: HTMLElement,
    private opts: PlotOptions,
  ) {
    this.el = h("div", { class: "plot-host" });
    // What is drawn, for the window tests (they compare it with the data's
    // source): `host.uplot.data`, `.series`, `.scales.x`. Read-only.
    Object.defineProperty(this.el, "uplot", { get: () => this.u });
    container.append(this.el);
    this.ro = new ResizeObserver(() => this.resize());
    this.ro.observe(container);
    this.el.addEventListener("dblclick", () => this.opts.onZoomOut());
    this.hint();
  }

  /** Pixel width of the plotting area, used to size the backend's buckets. */
  width(): number {
    if (this.u) return Math.max(50, Math.round(this.u.bbox.width / devicePixelRatio));
    return Math.max(50, this.container.clientWidth - 120);
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(200, this.container.clientWidth), height: Math.max(160, this.container.clientHeight) };
  }

  private resize(): void {
    if (this.u) this.u.setSize(this.size());
  }

  private hint(): void {
    clear(this.readout);
    this.readout.append(h("span", { class: "muted" }, t("viewer.readoutHint")));
  }

  destroy(): void {
    this.u?.destroy();
    this.u = null;
    this.ro.disconnect();
  }

  clear(): void {
    this.u?.destroy();
    this.u = null;
    this.logical = [];
    this.hint();
  }

  setData(inputs: PlotInput[], from: number, to: number, axes: Map<string, AxisSetting>): void {
    this.u?.destroy();
    this.u = null;
    this.logical = [];
    if (!inputs.length) {
      this.hint();
      return;
    }
    const fg = cssVar("--fg-muted", "#888");
    const grid = cssVar("--grid", "rgba(128,128,128,.15)");
    const units = [...new Set(inputs.map((i) => i.unit))];
    const series: uPlot.Series[] = [{ label: t("viewer.time") }];
    const bands: uPlot.Band[] = [];
    let n = 1;
    for (const i of inputs) {
      const scale = `u:${i.unit}`;
      const dash = i.compare ? [6, 4] : undefined;
      if (i.view.raw) {
        series.push({ label: i.label, scale, stroke: i.color, width: 1.5, dash, spanGaps: false, points: { show: false } });
        this.logical.push({ input: i, idx: [n] });
        n += 1;
      } else {
        series.push({ label: `${i.label} ${t("viewer.max")}`, scale, stroke: alpha(i.color, 0.9), width: 1, dash, points: { show: false } });
        series.push({ label: `${i.label} ${t("viewer.min")}`, scale, stroke: alpha(i.color, 0.9), width: 1, dash, points: { show: false } });
        bands.push({ series: [n, n + 1], fill: alpha(i.color, i.compare ? 0.12 : 0.25) });
        this.logical.push({ input: i, idx: [n, n + 1] });
        n += 2;
      }
    }
    const scales: uPlot.Scales = { x: { time: true, range: () => [from, to] } };
    const axesOpts: uPlot.Axis[] = [
      {
        stroke: fg,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
        // Two label lines (time, and the date where it changes) fit; ticks
        // far enough apart that "12:34:56" labels do not touch.
        size: 52,
        space: 80,
        values: (_u, splits, _ax, _space, incr) => timeLabels(splits, incr),
      },
    ];
    units.forEach((unit, k) => {
      const a = axes.get(unit);
      scales[`u:${unit}`] = {
        auto: !(a && a.mode === "fixed" && a.min !== null && a.max !== null),
        range: (_u, dmin, dmax): uPlot.Range.MinMax => {
          if (a && a.mode === "fixed" && a.min !== null && a.max !== null && a.max > a.min) return [a.min, a.max];
          if (dmin === null || dmax === null || !Number.isFinite(dmin) || !Number.isFinite(dmax)) return [0, 1];
          if (dmin === dmax) {
            const pad = Math.abs(dmin) * 0.05 || 1;
            return [dmin - pad, dmax + pad];
          }
          const pad = (dmax - dmin) * 0.05;
          return [dmin - pad, dmax + pad];
        },
      };
      axesOpts.push({
        scale: `u:${unit}`,
        side: k % 2 === 0 ? 3 : 1,
        label: unit || t("viewer.unitless"),
        labelSize: 18,
        stroke: fg,
        size: 56,
        grid: { show: k === 0, stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
        values: (_u, splits) => splits.map((v) => formatValue(v)),
      });
    });

    const { xs, cols } = align(inputs);
    const data = [xs, ...cols] as unknown as uPlot.AlignedData;
    const tz = getTimeZone();
    const opts: uPlot.Options = {
      ...this.size(),
      ms: 1,
      tzDate: (ts) => uPlot.tzDate(new Date(ts), tz),
      series,
      bands,
      scales,
      axes: axesOpts,
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: false }, points: { size: 6 } },
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 3) return;
            const a = u.posToVal(u.select.left, "x");
            const b = u.posToVal(u.select.left + u.select.width, "x");
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            this.opts.onZoom(Math.round(a), Math.round(b), this.width());
          },
        ],
        setCursor: [(u) => this.showReadout(u)],
      },
    };
    this.u = new uPlot(opts, data, this.el);
  }

  private showReadout(u: uPlot): void {
    const idx = u.cursor.idx;
    if (idx === null || idx === undefined) {
      this.hint();
      return;
    }
    const xs = u.data[0];
    clear(this.readout);
    this.readout.append(h("span", { class: "ro-time" }, formatDateTimeMs(xs[idx])));
    for (const l of this.logical) {
      const vals = l.idx.map((si) => nearest(u.data[si] as (number | null | undefined)[], idx));
      let text: string;
      if (vals.every((v) => v === null || v === undefined)) text = t("common.none");
      else if (l.idx.length === 1 || vals[0] === vals[1]) text = formatValue(vals[0] as number);
      else text = `${formatValue(vals[1] as number)} … ${formatValue(vals[0] as number)}`;
      this.readout.append(
        h(
          "span",
          { class: "ro-item" },
          h("i", { class: "swatch", style: `background:${l.input.color}` }),
          h("span", { class: "ro-label" }, l.input.label),
          h("b", { class: "ro-val" }, text),
          h("span", { class: "muted" }, l.input.unit),
        ),
      );
    }
  }
}

function nearest(col: (number | null | undefined)[], idx: number): number | null | undefined {
  if (col[idx] !== undefined) return col[idx];
  for (let d = 1; d < 2000; d++) {
    if (idx - d >= 0 && col[idx - d] !== undefined) return col[idx - d];
    if (idx + d < col.length && col[idx + d] !== undefined) return col[idx + d];
    if (idx - d < 0 && idx + d >= col.length) break;
  }
  return undefined;
}
