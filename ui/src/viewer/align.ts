// uPlot wants one x column shared by every series. Series that share their
// time stamps (one channel, or M4 buckets of one range and width) are handed
// over as they came, typed arrays and all; others are merged in one pass
// over their sorted stamps (no Set, no sort: those took most of a redraw).
import type { Columns } from "./frame";

/** A y column as uPlot reads it: `null` is a gap, `undefined` no sample. */
export type YColumn = Float64Array | (number | null | undefined)[];

export interface Aligned {
  xs: Float64Array;
  /** Per input: [min] when raw, else [max, min]. */
  ys: YColumn[];
}

function hasNaN(a: Float64Array): boolean {
  for (let k = 0; k < a.length; k++) if (a[k] !== a[k]) return true;
  return false;
}

/** The column as is when it has no gap, else a copy with `null` for NaN. */
function gapsAsNull(a: Float64Array): YColumn {
  if (!hasNaN(a)) return a;
  const out: (number | null)[] = new Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = a[k] === a[k] ? a[k] : null;
  return out;
}

function sameStamps(a: Float64Array, b: Float64Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** The sorted union of ascending stamp columns. */
function union(ts: Float64Array[]): Float64Array {
  const pos = new Array<number>(ts.length).fill(0);
  const out = new Float64Array(ts.reduce((s, t) => s + t.length, 0));
  let n = 0;
  for (;;) {
    let next = Infinity;
    for (let i = 0; i < ts.length; i++) if (pos[i] < ts[i].length && ts[i][pos[i]] < next) next = ts[i][pos[i]];
    if (next === Infinity) break;
    out[n++] = next;
    for (let i = 0; i < ts.length; i++) while (pos[i] < ts[i].length && ts[i][pos[i]] === next) pos[i]++;
  }
  return out.subarray(0, n);
}

/** `col` (stamped `t`) spread onto `xs`: `undefined` where it has no sample. */
function spread(xs: Float64Array, t: Float64Array, col: Float64Array): YColumn {
  const out: (number | null | undefined)[] = new Array(xs.length).fill(undefined);
  let j = 0;
  for (let k = 0; k < t.length; k++) {
    while (xs[j] < t[k]) j++;
    out[j] = col[k] === col[k] ? col[k] : null;
  }
  return out;
}

export function alignColumns(inputs: Columns[]): Aligned {
  const parts = (c: Columns): Float64Array[] => (c.raw ? [c.min] : [c.max, c.min]);
  if (!inputs.length) return { xs: new Float64Array(0), ys: [] };
  const first = inputs[0].t;
  if (inputs.every((c) => sameStamps(first, c.t))) {
    return { xs: first, ys: inputs.flatMap((c) => parts(c).map(gapsAsNull)) };
  }
  const xs = union(inputs.map((c) => c.t));
  return { xs, ys: inputs.flatMap((c) => parts(c).map((p) => spread(xs, c.t, p))) };
}
