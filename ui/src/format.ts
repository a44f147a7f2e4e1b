// Display formatting of values (no rounding rules beyond what fits a cell).
import { tDyn } from "./i18n";

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e7 || a < 1e-4)) return v.toExponential(4);
  return Number(v.toPrecision(7)).toString();
}

export function specialBadge(kind: string): HTMLSpanElement {
  const b = document.createElement("span");
  b.className = `badge-special badge-${kind}`;
  b.textContent = tDyn(`special.${kind}`, kind);
  b.title = kind;
  return b;
}
