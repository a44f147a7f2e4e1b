// A value that just changed is tinted for a moment: a class on, and off again
// 400 ms later for every value of that update at once. Two repaints an update,
// no per-frame animation and no forced layout: under software rendering (no
// GPU) an 0.8 s CSS animation per value plus a reflow to restart it kept the
// web process busy most of every second on the Monitor and the Dashboard.

const FRESH_MS = 400;
const pending = new Set<Element>();
let timer: number | undefined;

export function markFresh(el: Element): void {
  el.classList.add("fresh");
  pending.add(el);
  if (timer === undefined) {
    timer = window.setTimeout(() => {
      for (const e of pending) e.classList.remove("fresh");
      pending.clear();
      timer = undefined;
    }, FRESH_MS);
  }
}
