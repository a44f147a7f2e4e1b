// The Viewer's uPlot: several channels, one y axis per unit, min/max bands
// (a column per bucket) for downsampled data, drag-to-zoom (the owner
// refetches), cursor read-out and a comparison range drawn shifted onto the
// main one.
//
// One uPlot instance lives as long as the set of series is the same (their
// keys, kinds, units, colours): a refresh, zoom or pan only hands it new
// columns and a new x range (`setData`), which redraws without rebuilding
// the canvas, axes and DOM (issue 17: the rebuild was most of a redraw).
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { h, clear } from "../dom";
import { formatValue } from "../format";
import { t } from "../i18n";
import type { AxisSetting } from "../plot";
import { timeLabels } from "../plot";
import { formatDateTimeMs, getTimeZone, zonedDate } from "../time";
import { alignColumns } from "./align";
import type { Columns } from "./frame";
import { phase, spent } from "./timings";

export interface ViewerInput {
  key: string;
  label: string;
  unit: string;
  color: string;
  cols: Columns;
  /** The comparison range, already shifted onto the main time axis. */
  compare?: boolean;
}

export interface PlotOptions {
  /** Called with the selected range after a drag; the owner refetches with `width`. */
  onZoom(from: number, to: number, width: number): void;
  /** Double click: the owner goes back to the previous range. */
  onZoomOut(): void;
  /** After each draw of the canvas (the generation the data came with). */
  onDrawn?(gen: number): void;
}

interface Logical {
  input: ViewerInput;
  /** uPlot series indices: [line] (raw) or [max, min] (bands). */
  idx: number[];
  /** The band's colour between max and min (downsampled only). */
  fill?: string;
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

/** The series' layout: when it changes, the instance's series are replaced. */
function seriesKey(inputs: ViewerInput[]): string {
  return inputs.map((i) => `${i.key}|${i.cols.raw ? "r" : "b"}|${i.unit}|${i.color}|${i.compare ? 1 : 0}`).join("\n");
}

/** The y axes (one per unit, in order): when they change the instance is rebuilt. */
function axesKey(inputs: ViewerInput[]): string {
  return [...new Set(inputs.map((i) => i.unit))].join("\n");
}

/** uPlot series for `inputs`: a line per raw channel, max and min lines
 * per downsampled one (the band between them is drawn by `drawBands`). */
function layout(inputs: ViewerInput[]): { series: uPlot.Series[]; logical: Logical[] } {
  const series: uPlot.Series[] = [];
  const logical: Logical[] = [];
  let n = 1;
  for (const i of inputs) {
    const scale = `u:${i.unit}`;
    const dash = i.compare ? [6, 4] : undefined;
    if (i.cols.raw) {
      series.push({ label: i.label, scale, stroke: i.color, width: 1.5, dash, spanGaps: false, points: { show: false } });
      logical.push({ input: i, idx: [n] });
      n += 1;
    } else {
      series.push({ label: `${i.label} ${t("viewer.max")}`, scale, stroke: alpha(i.color, 0.9), width: 1, dash, points: { show: false } });
      series.push({ label: `${i.label} ${t("viewer.min")}`, scale, stroke: alpha(i.color, 0.9), width: 1, dash, points: { show: false } });
      logical.push({ input: i, idx: [n, n + 1], fill: alpha(i.color, i.compare ? 0.12 : 0.25) });
      n += 2;
    }
  }
  return { series, logical };
}

/** Each bucket's min..max as a pixel-aligned column under the lines.
 * uPlot's bands fill one polygon between the two lines: drawing a year's
 * series took 40-100 ms in WebKitGTK's software canvas (a band as tall as
 * the plot), the columns take 3-4 ms (issue 17, the figures' phases). */
function drawBands(u: uPlot, logical: Logical[]): void {
  const xs = u.data[0];
  if (!xs || xs.length === 0) return;
  const { left, top, width, height } = u.bbox;
  const ctx = u.ctx;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  for (const l of logical) {
    if (!l.fill || l.idx.length !== 2 || !u.series[l.idx[0]]?.show) continue;
    const hi = u.data[l.idx[0]] as ArrayLike<number | null | undefined>;
    const lo = u.data[l.idx[1]] as ArrayLike<number | null | undefined>;
    const scale = u.series[l.idx[0]].scale ?? "y";
    ctx.fillStyle = l.fill;
    let x0 = Math.round(u.valToPos(xs[0], "x", true));
    for (let k = 0; k < xs.length; k++) {
      const x1 = k + 1 < xs.length ? Math.round(u.valToPos(xs[k + 1], "x", true)) : x0 + Math.max(1, Math.round(width / xs.length));
      const a = hi[k];
      const b = lo[k];
      if (a !== null && a !== undefined && b !== null && b !== undefined && x1 >= left && x0 <= left + width) {
        const y0 = Math.round(u.valToPos(a, scale, true));
        const y1 = Math.round(u.valToPos(b, scale, true));
        ctx.fillRect(x0, Math.min(y0, y1), Math.max(1, x1 - x0), Math.max(1, Math.abs(y1 - y0)));
      }
      x0 = x1;
    }
  }
  ctx.restore();
}

export class ViewerPlot {
  private u: uPlot | null = null;
  private axesShape = "";
  private seriesShape = "";
  private logical: Logical[] = [];
  private ro: ResizeObserver;
  private xRange: [number, number] = [0, 1];
  private axes = new Map<string, AxisSetting>();
  /** The request generation of the data now in the instance. */
  private gen = 0;
  /** Instances built so far (a test reads it: refreshes must not add any). */
  builds = 0;
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
    Object.defineProperty(this.el, "plotBuilds", { get: () => this.builds });
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
    if (!this.u) return;
    const s = this.size();
    if (s.width !== this.u.width || s.height !== this.u.height) this.u.setSize(s);
  }

  private hint(): void {
    clear(this.readout);
    this.readout.append(h("span", { class: "muted" }, t("viewer.readoutHint")));
  }

  destroy(): void {
    this.clear();
    this.ro.disconnect();
  }

  clear(): void {
    this.u?.destroy();
    this.u = null;
    this.axesShape = "";
    this.seriesShape = "";
    this.logical = [];
    this.hint();
  }

  /** Axis settings changed: the same data drawn on the new y ranges. */
  setAxes(axes: Map<string, AxisSetting>): void {
    this.axes = axes;
    if (this.u) this.u.setData(this.u.data, true);
  }

  /** Draws `inputs` over `[from, to]`; `gen` is handed back by `onDrawn`. */
  setData(inputs: ViewerInput[], from: number, to: number, axes: Map<string, AxisSetting>, gen = 0): void {
    this.xRange = [from, to];
    this.axes = axes;
    this.gen = gen;
    if (!inputs.length) {
      this.clear();
      return;
    }
    const { xs, ys } = alignColumns(inputs.map((i) => i.cols));
    phase("aligned");
    const data = [xs, ...ys] as unknown as uPlot.AlignedData;
    const axesShape = axesKey(inputs);
    const seriesShape = seriesKey(inputs);
    const u = this.u;
    if (u && axesShape === this.axesShape) {
      if (seriesShape === this.seriesShape) {
        // Same series: new columns, scales recomputed (x from xRange).
        this.logical.forEach((l, k) => (l.input = inputs[k]));
        u.setData(data, true);
        return;
      }
      // Same axes, other series (a channel added, or raw points became
      // bands on zooming out): the series are swapped in the same instance.
      const next = layout(inputs);
      this.logical = next.logical;
      u.batch(() => {
        for (let k = u.series.length - 1; k >= 1; k--) u.delSeries(k);
        next.series.forEach((opts) => u.addSeries(opts));
        u.setData(data, true);
      });
      this.seriesShape = seriesShape;
      return;
    }
    this.build(inputs, data);
    this.axesShape = axesShape;
    this.seriesShape = seriesShape;
  }

  private build(inputs: ViewerInput[], data: uPlot.AlignedData): void {
    this.u?.destroy();
    this.u = null;
    this.logical = [];
    this.builds++;
    const fg = cssVar("--fg-muted", "#888");
    const grid = cssVar("--grid", "rgba(128,128,128,.15)");
    const units = [...new Set(inputs.map((i) => i.unit))];
    const lay = layout(inputs);
    const series: uPlot.Series[] = [{ label: t("viewer.time") }, ...lay.series];
    this.logical = lay.logical;
    // Ranges read the plot's current settings, so a refresh needs no rebuild.
    const scales: uPlot.Scales = { x: { time: true, range: () => [this.xRange[0], this.xRange[1]] } };
    const axesOpts: uPlot.Axis[] = [
      {
        stroke: fg,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
        // Two label lines (time, and the date where it changes) fit; ticks
        // far enough apart that "12:34:56" labels do not touch.
        size: 52,
        space: 80,
        values: (_u, splits, _ax, _space, incr) => {
          const t0 = performance.now();
          const out = timeLabels(splits, incr);
          spent("labels", performance.now() - t0);
          return out;
        },
      },
    ];
    units.forEach((unit, k) => {
      scales[`u:${unit}`] = {
        auto: true,
        range: (_u, dmin, dmax): uPlot.Range.MinMax => {
          const a = this.axes.get(unit);
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

    const tz = getTimeZone();
    const opts: uPlot.Options = {
      ...this.size(),
      ms: 1,
      tzDate: (ts) => {
        const t0 = performance.now();
        const d = zonedDate(ts, tz);
        spent("tzDate", performance.now() - t0);
        return d;
      },
      series,
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
        setCursor: [
          (u) => {
            const t0 = performance.now();
            this.showReadout(u);
            spent("cursor", performance.now() - t0);
          },
        ],
        setScale: [() => phase("setScale")],
        drawClear: [
          (u) => {
            phase("drawClear");
            drawBands(u, this.logical);
            phase("bands");
          },
        ],
        drawAxes: [() => phase("drawAxes")],
        drawSeries: [(_u, si) => phase(`series${si}`)],
        draw: [
          () => {
            phase("draw");
            this.opts.onDrawn?.(this.gen);
          },
        ],
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
      const vals = l.idx.map((si) => nearest(u.data[si] as ArrayLike<number | null | undefined>, idx));
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

function nearest(col: ArrayLike<number | null | undefined>, idx: number): number | null | undefined {
  const at = (k: number): number | null | undefined => {
    const v = col[k];
    return typeof v === "number" && v !== v ? null : v; // NaN never reaches here; be safe
  };
  if (at(idx) !== undefined) return at(idx);
  for (let d = 1; d < 2000; d++) {
    if (idx - d >= 0 && at(idx - d) !== undefined) return at(idx - d);
    if (idx + d < col.length && at(idx + d) !== undefined) return at(idx + d);
    if (idx - d < 0 && idx + d >= col.length) break;
  }
  return undefined;
}
