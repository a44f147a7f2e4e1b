import { describe, expect, it } from "vitest";
import { agentView, formatBytesBinary, storageMeter, toSeries, trafficShare } from "../src/web/backend";

describe("web back end: the desktop's derived figures from the API's answers", () => {
  it("an agent: age of the last batch, traffic share and warning", () => {
    const a = agentView(
      { id: 7, name: "site-a", online: true, sync: { last_batch_ms: 1000, backlog: 3, samples: 10 }, traffic_bytes: 950, traffic_allowance: 1000 },
      4000,
    );
    expect(a.id).toBe("7");
    expect(a.last_batch_age_ms).toBe(3000);
    expect(a.traffic_month_bytes).toBe(950);
    expect(a.traffic_percent).toBe(95);
    expect(a.traffic_warning).toBe(true);
    expect(a.sync).toEqual({ last_batch_ms: 1000, backlog: 3, samples: 10, batches: 0, rejected: 0, last_error: null });
    const none = agentView({ id: "x", name: "b", traffic_allowance: 0 }, 0);
    expect([none.traffic_allowance, none.traffic_percent, none.traffic_warning, none.last_batch_age_ms]).toEqual([null, null, false, null]);
    expect(trafficShare(10, 0)).toEqual({ percent: null, warning: false });
  });

  it("min/max buckets: raw points when no bucket holds two samples, else bands", () => {
    const p = (t: number, v: number | null) => ({ t, v });
    expect(toSeries([{ t_start: 10, t_end: 20, count: 1, min: p(12, 1), max: p(12, 1) }, { t_start: 0, t_end: 10, count: 0, min: null, max: null }])).toEqual({
      raw: true,
      t: [12],
      min: [1],
      max: [1],
    });
    expect(toSeries([{ t_start: 10, t_end: 20, count: 2, min: p(11, 1), max: p(15, 4) }, { t_start: 0, t_end: 10, count: 0, min: null, max: null }])).toEqual({
      raw: false,
      t: [0, 10],
      min: [null, 1],
      max: [null, 4],
    });
  });

  it("the storage meter as core computes it", () => {
    const m = storageMeter(
      { account: "acme", plan: "free", limits: { storage_bytes: 1024 * 1024 }, usage: { storage_bytes: 100 } },
      [1, 2, 3, 4, 5, 6].map((i) => ({ channel: i, agent: "a", path: `p${i}`, bytes: i * 10 })),
    );
    expect(m.percent).toBe(0);
    expect(m.percent_text).toBe("< 0.1");
    expect(m.over).toBe(false);
    expect(m.channels.map((c) => c.channel)).toEqual(["6", "5", "4", "3", "2"]);
    expect(m.capacity_text).toBe("1.0 MiB");
    expect(formatBytesBinary(512)).toBe("512 B");
  });
});
