import { describe, expect, it } from "vitest";
import { alignColumns } from "../src/viewer/align";
import { decodeFrame, encodeFrame, FrameError, shifted, toColumns } from "../src/viewer/frame";
import { FetchCache, LatestOnly } from "../src/viewer/latest";

/** Reads a file next to the sources (node's fs; the UI's types do not include node). */
async function fixture(name: string): Promise<ArrayBuffer> {
  const fs = (await import(/* @vite-ignore */ ["node", "fs"].join(":"))) as { readFileSync(p: URL): Uint8Array };
  const b = fs.readFileSync(new URL(`../src/fixtures/${name}`, import.meta.url));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

describe("series frame", () => {
  it("reads the frame core writes (src/fixtures/series-frame.bin, from core's test)", async () => {
    const cols = decodeFrame(await fixture("series-frame.bin"));
    expect(cols.map((c) => [c.channelId, c.raw, c.t.length])).toEqual([
      [7, true, 3],
      [-2, false, 2],
      [9, false, 0],
    ]);
    expect([...cols[0].t]).toEqual([1_790_000_000_000, 1_790_000_001_000, 1_790_000_002_000]);
    expect(cols[0].min[0]).toBe(21.5);
    expect(Number.isNaN(cols[0].min[1])).toBe(true);
    expect(cols[0].max).toBe(cols[0].min);
    expect([...cols[1].max]).toEqual([3.5, NaN]);
    expect([...cols[1].min]).toEqual([1, NaN]);
  });

  it("writes the same bytes as core", async () => {
    const views = [
      { channelId: 7, raw: true, t: [1_790_000_000_000, 1_790_000_001_000, 1_790_000_002_000], min: [21.5, null, -0.125], max: [21.5, null, -0.125] },
      { channelId: -2, raw: false, t: [1_790_000_000_000, 1_790_000_060_000], min: [1, null], max: [3.5, null] },
      { channelId: 9, raw: false, t: [], min: [], max: [] },
    ];
    expect(new Uint8Array(encodeFrame(views))).toEqual(new Uint8Array(await fixture("series-frame.bin")));
  });

  it("refuses what is not a frame, naming why", () => {
    expect(() => decodeFrame(new ArrayBuffer(4))).toThrow(/shorter than its header/);
    const bad = new Uint8Array(encodeFrame([]));
    bad[0] = 0;
    expect(() => decodeFrame(bad.buffer)).toThrow(/bad magic/);
    const cut = encodeFrame([{ channelId: 1, raw: true, t: [1, 2, 3], min: [1, 2, 3], max: [1, 2, 3] }]).slice(0, 40);
    expect(() => decodeFrame(cut)).toThrow(FrameError);
    expect(() => decodeFrame(cut)).toThrow(/channel 1 claims 3 points/);
  });

  it("shifts and converts cloud series", () => {
    const c = toColumns(-1, { raw: false, t: [10, 20], min: [1, null], max: [2, null] });
    expect([...shifted(c, 5).t]).toEqual([15, 25]);
    expect(Number.isNaN(c.max[1])).toBe(true);
  });
});

describe("alignment", () => {
  const col = (t: number[], min: number[], max = min, raw = min === max) =>
    ({ channelId: 1, raw, t: Float64Array.from(t), min: Float64Array.from(min), max: Float64Array.from(max) });

  it("hands shared stamps over as they are; gaps become null", () => {
    const a = col([1, 2, 3], [5, 6, 7]);
    const b = col([1, 2, 3], [0, NaN, 1], [2, NaN, 3]);
    const { xs, ys } = alignColumns([a, b]);
    expect(xs).toBe(a.t);
    expect(ys[0]).toBe(a.min);
    expect(ys.slice(1)).toEqual([[2, null, 3], [0, null, 1]]);
  });

  it("merges different stamps: undefined where a series has no sample", () => {
    const { xs, ys } = alignColumns([col([1, 3], [10, NaN]), col([2, 3], [1, 2], [5, 6], false)]);
    expect([...xs]).toEqual([1, 2, 3]);
    expect(ys).toEqual([
      [10, undefined, null],
      [undefined, 5, 6],
      [undefined, 1, 2],
    ]);
  });
});

describe("latest request wins", () => {
  it("drops answers for stale requests and runs only the newest waiting one", async () => {
    const resolvers: ((v: number) => void)[] = [];
    const fetched: number[] = [];
    const applied: number[] = [];
    const l = new LatestOnly<number, number>(
      (q) => {
        fetched.push(q);
        return new Promise((r) => resolvers.push(r));
      },
      ({ a }) => applied.push(a),
      () => undefined,
    );
    for (let k = 1; k <= 20; k++) l.request(k);
    expect(fetched).toEqual([1]); // one at a time
    resolvers[0](1);
    await Promise.resolve();
    await Promise.resolve();
    expect(applied).toEqual([]); // request 1 was stale when it came back
    expect(fetched).toEqual([1, 20]); // 2..19 were never fetched
    resolvers[1](20);
    await new Promise((r) => setTimeout(r, 0));
    expect(applied).toEqual([20]);
    expect(l.dropped).toBe(1);
  });
});

describe("fetch cache", () => {
  it("keeps a bounded number of fetches, forgets failures and expired ones", async () => {
    let now = 0;
    const c = new FetchCache<number>(2, () => 1000, () => now);
    let calls = 0;
    const f = (v: number) => () => {
      calls++;
      return Promise.resolve(v);
    };
    await c.get("a", f(1));
    await c.get("b", f(2));
    expect(await c.get("a", f(9))).toBe(1); // a hit, now most recent
    await c.get("c", f(3)); // evicts b
    expect(c.has("b")).toBe(false);
    expect(c.has("a")).toBe(true);
    now = 2000;
    expect(c.has("a")).toBe(false);
    await c.get("x", () => Promise.reject(new Error("no"))).catch(() => undefined);
    await Promise.resolve();
    expect(c.has("x")).toBe(false);
    expect(calls).toBe(3);
  });
});
