// The cloud channels the Viewer overlays on its local ones (added from the
// Cloud screen). Kept for the window's life, like the Viewer's selection.
import type { CloudChannel } from "./api";
import { toOverlay, type OverlayChannel } from "./cloudfmt";

/** Lines one graph can still be read with (local channels have their own cap). */
export const MAX_OVERLAY = 16;

export const overlay = {
  list: [] as OverlayChannel[],
  listeners: new Set<() => void>(),
};

function changed(): void {
  for (const l of overlay.listeners) l();
}

export function hasOverlay(id: string): boolean {
  return overlay.list.some((c) => c.id === id);
}

/** False when it is already there or the graph is full. */
export function addOverlay(c: CloudChannel): boolean {
  if (hasOverlay(c.id) || overlay.list.length >= MAX_OVERLAY) return false;
  overlay.list.push(toOverlay(c));
  changed();
  return true;
}

export function removeOverlay(id: string): void {
  const k = overlay.list.findIndex((c) => c.id === id);
  if (k < 0) return;
  overlay.list.splice(k, 1);
  changed();
}

/** The span of the overlaid channels' stored samples (for the Viewer's "all"). */
export function overlayExtent(): { from: number; to: number } | null {
  const firsts = overlay.list.map((c) => c.tFirst).filter((x): x is number => x !== null);
  const lasts = overlay.list.map((c) => c.tLast).filter((x): x is number => x !== null);
  if (!firsts.length || !lasts.length) return null;
  return { from: Math.min(...firsts), to: Math.max(...lasts) + 1 };
}
