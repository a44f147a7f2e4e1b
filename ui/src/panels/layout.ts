// The board grid's geometry, without the DOM: where a panel may go, the
// first free spot for a new one, and what a key press or a drag does to a
// panel's rectangle. The backend checks the same rules when it saves.

export const GRID_COLS = 12;
export const GRID_ROWS = 48;

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Placed extends Rect {
  id: number;
}

export function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

export function onGrid(r: Rect): boolean {
  return r.w >= 1 && r.h >= 1 && r.x >= 0 && r.y >= 0 && r.x + r.w <= GRID_COLS && r.y + r.h <= GRID_ROWS;
}

/** Whether panel `id` may take `r` among `panels`. */
export function fits(panels: Placed[], id: number, r: Rect): boolean {
  return onGrid(r) && !panels.some((p) => p.id !== id && overlaps(p, r));
}

/** The first free spot (row by row, then column) for a `w`x`h` panel, or null. */
export function firstFree(panels: Placed[], w: number, h: number): Rect | null {
  const width = Math.min(w, GRID_COLS);
  for (let y = 0; y + h <= GRID_ROWS; y++) {
    for (let x = 0; x + width <= GRID_COLS; x++) {
      const r = { x, y, w: width, h };
      if (fits(panels, -1, r)) return r;
    }
  }
  return null;
}

/** Arrow keys move by a cell; with shift they grow or shrink the panel. */
export function keyRect(r: Rect, key: string, shift: boolean): Rect | null {
  const d: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  const step = d[key];
  if (!step) return null;
  const [dx, dy] = step;
  return shift ? { ...r, w: r.w + dx, h: r.h + dy } : { ...r, x: r.x + dx, y: r.y + dy };
}

/** A drag of `dx`,`dy` pixels over cells of `cellW`x`cellH` pixels:
 * the panel moved (or, with `resize`, its size changed), kept on the grid. */
export function dragRect(r: Rect, dx: number, dy: number, cellW: number, cellH: number, resize: boolean): Rect {
  const cx = Math.round(dx / cellW);
  const cy = Math.round(dy / cellH);
  if (resize) {
    return { ...r, w: clamp(r.w + cx, 1, GRID_COLS - r.x), h: clamp(r.h + cy, 1, GRID_ROWS - r.y) };
  }
  return { ...r, x: clamp(r.x + cx, 0, GRID_COLS - r.w), y: clamp(r.y + cy, 0, GRID_ROWS - r.h) };
}

/** A point inside a box as relative coordinates (0..1), clamped to it. */
export function relativePoint(px: number, py: number, box: { left: number; top: number; width: number; height: number }): { x: number; y: number } {
  const x = box.width > 0 ? (px - box.left) / box.width : 0;
  const y = box.height > 0 ? (py - box.top) / box.height : 0;
  return { x: round3(clamp(x, 0, 1)), y: round3(clamp(y, 0, 1)) };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** Rows the board shows: its lowest panel plus room to drop one below. */
export function rowsShown(panels: Rect[], min = 8): number {
  const bottom = panels.reduce((m, p) => Math.max(m, p.y + p.h), 0);
  return Math.min(GRID_ROWS, Math.max(min, bottom + 3));
}
