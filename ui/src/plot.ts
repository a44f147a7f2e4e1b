// What the plots share: tick labels, the palette, axis settings, and the
// alignment of JSON series (the Dashboard's graphs). The Viewer's plot is
// ui/src/viewer/plot.ts.
import type { SeriesView } from "./api";
import { formatDateTimeMs } from "./time";

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
