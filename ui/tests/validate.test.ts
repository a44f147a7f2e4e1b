import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { FieldError } from "../src/api";
import { liveCheck } from "../src/validate";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function setup(delay = 250) {
  let value = "";
  const seen: (FieldError | null)[] = [];
  const replies: ((r: FieldError | null) => void)[] = [];
  const check = vi.fn((_v: string) => new Promise<FieldError | null>((res) => replies.push(res)));
  const lc = liveCheck({ delay, build: () => value, check, apply: (e) => seen.push(e) });
  return { lc, check, seen, replies, set: (v: string) => (value = v) };
}

describe("debounced live validation", () => {
  it("asks once after the user pauses", async () => {
    const s = setup();
    for (const v of ["b", "bo", "boi", "boiler"]) {
      s.set(v);
      s.lc.schedule();
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(s.check).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(250);
    expect(s.check).toHaveBeenCalledTimes(1);
    expect(s.check).toHaveBeenCalledWith("boiler");
    s.replies[0]({ field: "id", message: "taken" });
    await vi.runAllTimersAsync();
    expect(s.seen).toEqual([{ field: "id", message: "taken" }]);
  });

  it("drops a slow reply for text that has changed since", async () => {
    const s = setup();
    s.set("old");
    s.lc.schedule();
    await vi.advanceTimersByTimeAsync(250);
    s.set("new");
    s.lc.schedule();
    await vi.advanceTimersByTimeAsync(250);
    expect(s.check).toHaveBeenCalledTimes(2);
    s.replies[1](null);
    await Promise.resolve();
    s.replies[0]({ field: "id", message: "stale" });
    await vi.runAllTimersAsync();
    expect(s.seen).toEqual([null]);
  });

  it("does not ask again for an unchanged value, and a return to it beats an older pending reply", async () => {
    const s = setup();
    s.set("a");
    s.lc.schedule();
    await vi.advanceTimersByTimeAsync(250);
    s.replies[0]({ field: "x", message: "bad a" });
    await vi.runAllTimersAsync();
    s.set("b");
    s.lc.schedule();
    await vi.advanceTimersByTimeAsync(250);
    s.set("a");
    s.lc.schedule();
    await vi.advanceTimersByTimeAsync(250);
    expect(s.check).toHaveBeenCalledTimes(2);
    s.replies[1](null); // late answer for "b"
    await vi.runAllTimersAsync();
    expect(s.seen.map((e) => e?.message ?? null)).toEqual(["bad a", "bad a"]);
  });

  it("turns a failed check into a message without a field", async () => {
    let value = 1;
    const seen: (FieldError | null)[] = [];
    const lc = liveCheck({ build: () => value++, check: () => Promise.reject("backend gone"), apply: (e) => seen.push(e) });
    await lc.flush();
    expect(seen).toEqual([{ field: null, message: "backend gone" }]);
  });

  it("cancel stops a pending check and ignores one in flight", async () => {
    const s = setup();
    s.set("x");
    s.lc.schedule();
    s.lc.cancel();
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.check).not.toHaveBeenCalled();
    s.lc.schedule();
    await vi.advanceTimersByTimeAsync(250);
    s.lc.cancel();
    s.replies[0]({ field: "id", message: "late" });
    await vi.runAllTimersAsync();
    expect(s.seen).toEqual([]);
  });
});
