// The Viewer's series as columns of numbers (issue 17). The desktop sends
// them as one binary frame (command `series_frame`; layout in core's
// desk/series_frame.rs): the columns here are views onto that buffer, not
// copies, and no JSON of a million numbers is parsed.
import type { SeriesView } from "../api";

/** One channel: `t` ascending (ms), `min`/`max` with NaN where the bucket
 * or sample has no value (a gap). When `raw`, `max` is `min`. */
export interface Columns {
  channelId: number;
  raw: boolean;
  t: Float64Array;
  min: Float64Array;
  max: Float64Array;
}

const MAGIC = 0x4653444d; // "MDSF" read as a little-endian u32
const VERSION = 1;
const RAW = 1;
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A frame that is not one names what is wrong (it never reaches the plot). */
export class FrameError extends Error {}

function f64s(buf: ArrayBuffer, at: number, n: number): Float64Array {
  if (littleEndian) return new Float64Array(buf, at, n);
  // A big-endian machine reads each value through a DataView (a copy).
  const dv = new DataView(buf, at, n * 8);
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) out[k] = dv.getFloat64(k * 8, true);
  return out;
}

export function decodeFrame(buf: ArrayBuffer): Columns[] {
  if (!(buf instanceof ArrayBuffer)) throw new FrameError(`series frame: expected bytes, got ${typeof buf}`);
  if (buf.byteLength < 16) throw new FrameError(`series frame: ${buf.byteLength} bytes, shorter than its header`);
  const dv = new DataView(buf);
  if (dv.getUint32(0, true) !== MAGIC) throw new FrameError("series frame: bad magic (not an MDSF frame)");
  const version = dv.getUint32(4, true);
  if (version !== VERSION) throw new FrameError(`series frame: version ${version}, this window reads ${VERSION}`);
  const count = dv.getUint32(8, true);
  const out: Columns[] = [];
  let at = 16;
  for (let c = 0; c < count; c++) {
    if (at + 16 > buf.byteLength) throw new FrameError(`series frame: channel ${c + 1} of ${count} is cut off`);
    const channelId = Number(dv.getBigInt64(at, true));
    const raw = (dv.getUint32(at + 8, true) & RAW) !== 0;
    const n = dv.getUint32(at + 12, true);
    at += 16;
    const cols = raw ? 2 : 3;
    if (at + cols * n * 8 > buf.byteLength) throw new FrameError(`series frame: channel ${channelId} claims ${n} points, more than the frame holds`);
    const t = f64s(buf, at, n);
    const min = f64s(buf, at + n * 8, n);
    const max = raw ? min : f64s(buf, at + 2 * n * 8, n);
    at += cols * n * 8;
    out.push({ channelId, raw, t, min, max });
  }
  return out;
}

/** The same bytes from JSON series (the mock back end, tests). */
export function encodeFrame(views: SeriesView[]): ArrayBuffer {
  const size = 16 + views.reduce((s, v) => s + 16 + v.t.length * 8 * (v.raw ? 2 : 3), 0);
  const buf = new ArrayBuffer(size);
  const dv = new DataView(buf);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, VERSION, true);
  dv.setUint32(8, views.length, true);
  let at = 16;
  for (const v of views) {
    const n = v.t.length;
    dv.setBigInt64(at, BigInt(v.channelId), true);
    dv.setUint32(at + 8, v.raw ? RAW : 0, true);
    dv.setUint32(at + 12, n, true);
    at += 16;
    const put = (col: ArrayLike<number | null>): void => {
      for (let k = 0; k < n; k++) {
        dv.setFloat64(at, col[k] ?? NaN, true);
        at += 8;
      }
    };
    put(v.t);
    put(v.min);
    if (!v.raw) put(v.max);
  }
  return buf;
}

/** Columns from a JSON series (the cloud's overlay channels). */
export function toColumns(channelId: number, v: { raw: boolean; t: number[]; min: (number | null)[]; max: (number | null)[] }): Columns {
  const col = (a: (number | null)[]): Float64Array => Float64Array.from(a, (x) => x ?? NaN);
  const min = col(v.min);
  return { channelId, raw: v.raw, t: Float64Array.from(v.t), min, max: v.raw ? min : col(v.max) };
}

/** `c` moved by `dt` ms (the comparison range drawn onto the main one). */
export function shifted(c: Columns, dt: number): Columns {
  const t = new Float64Array(c.t.length);
  for (let k = 0; k < t.length; k++) t[k] = c.t[k] + dt;
  return { ...c, t };
}
