// Where a Viewer redraw spends its time (issue 17), kept in the page:
// performance marks/measures ("viewer:ipc", "viewer:decode",
// "viewer:setData", "viewer:paint") and the last redraws as plain numbers
// on the plot element (`timings`), which the figures script and the window
// tests read over WebDriver (no inspector needed).

export interface Redraw {
  gen: number;
  /** Request made -> every answer in (the IPC round trips, core's work included). */
  ipcMs: number;
  /** Frames read into typed arrays. */
  decodeMs: number;
  /** Alignment and uPlot's setData up to its draw hook. */
  setDataMs: number;
  /** Draw hook -> the next animation frame (the canvas presented). */
  paintMs: number;
  /** The range drawn. */
  from: number;
  to: number;
  bytes: number;
  /** Where setData and paint went (ms from setData's start): uPlot's phases. */
  phases?: Record<string, number>;
}

/** Phase marks of the redraw in progress (ms since its setData), set by the plot. */
export const phases: { t0: number; at: Record<string, number> } = { t0: 0, at: {} };
/** Adds `ms` (and one call) to the phase `name`'s totals. */
export function spent(name: string, ms: number): void {
  phases.at[`${name}Ms`] = Math.round(((phases.at[`${name}Ms`] ?? 0) + ms) * 100) / 100;
  phases.at[`${name}N`] = (phases.at[`${name}N`] ?? 0) + 1;
}
export function phase(name: string): void {
  phases.at[name] = Math.round((performance.now() - phases.t0) * 10) / 10;
}

const KEEP = 50;

export class Timings {
  readonly log: Redraw[] = [];
  private pending = new Map<number, Partial<Redraw> & { t0: number; tSet?: number }>();

  start(gen: number): void {
    this.pending.set(gen, { gen, t0: performance.now(), decodeMs: 0, bytes: 0 });
    performance.mark(`viewer:request:${gen}`);
    // Requests that never paint (dropped as stale) must not pile up.
    for (const k of this.pending.keys()) if (k < gen - KEEP) this.pending.delete(k);
  }

  ipcDone(gen: number): void {
    const p = this.pending.get(gen);
    if (p) p.ipcMs = performance.now() - p.t0;
    measure("viewer:ipc", `viewer:request:${gen}`);
  }

  decoded(gen: number, ms: number, bytes: number): void {
    const p = this.pending.get(gen);
    if (p) {
      p.decodeMs = (p.decodeMs ?? 0) + ms;
      p.bytes = (p.bytes ?? 0) + bytes;
    }
  }

  /** Right before the plot gets the data. */
  setData(gen: number, from: number, to: number): void {
    const p = this.pending.get(gen);
    if (p) Object.assign(p, { tSet: performance.now(), from, to });
    phases.t0 = performance.now();
    phases.at = {};
    performance.mark(`viewer:setData:${gen}`);
  }

  /** uPlot's draw hook ran for `gen`; the paint is the next frame. */
  drawn(gen: number, done: (r: Redraw) => void): void {
    const p = this.pending.get(gen);
    if (!p || p.tSet === undefined) return;
    this.pending.delete(gen);
    const tDraw = performance.now();
    measure("viewer:setData", `viewer:setData:${gen}`);
    performance.mark(`viewer:drawn:${gen}`);
    const at = phases.at;
    queueMicrotask(() => phase("afterDraw"));
    setTimeout(() => phase("task"), 0);
    requestAnimationFrame(() => {
      phase("raf");
      measure("viewer:paint", `viewer:drawn:${gen}`);
      const r: Redraw = {
        gen,
        ipcMs: p.ipcMs ?? 0,
        decodeMs: p.decodeMs ?? 0,
        setDataMs: tDraw - (p.tSet ?? tDraw),
        paintMs: performance.now() - tDraw,
        from: p.from ?? 0,
        to: p.to ?? 0,
        bytes: p.bytes ?? 0,
        phases: at,
      };
      this.log.push(r);
      if (this.log.length > KEEP) this.log.shift();
      done(r);
    });
  }
}

function measure(name: string, from: string): void {
  try {
    performance.measure(name, from);
  } catch {
    /* the start mark was cleared: nothing to measure */
  }
}
