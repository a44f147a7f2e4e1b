// Shared form pieces for the alarm/calc/destination editors.
import { api } from "./api";
import { clear, h, option } from "./dom";
import { t } from "./i18n";

/** Channel paths "instrument/channel" the engine knows, plus calc channels
 * ("calc/<id>"), as the Viewer gets them. */
export async function loadChannelPaths(): Promise<string[]> {
  const [chs, calcs] = await Promise.all([api.channels(), api.calcsList().catch(() => [])]);
  const paths = new Set(chs.map((c) => `${c.instrument}/${c.channel}`));
  for (const c of calcs) paths.add(`calc/${c.id}`);
  return [...paths].sort();
}

/** Fills a channel <select> grouped by instrument. A current value that is not
 * in the list stays selectable (marked), so editing never drops it silently. */
export function fillChannelSelect(sel: HTMLSelectElement, paths: string[], current: string, emptyLabel: string): void {
  clear(sel);
  sel.append(option("", emptyLabel, current === ""));
  const groups = new Map<string, string[]>();
  for (const p of paths) {
    const k = p.includes("/") ? p.slice(0, p.indexOf("/")) : "";
    groups.set(k, [...(groups.get(k) ?? []), p]);
  }
  if (current && !paths.includes(current)) sel.append(option(current, `${current} ${t("pick.unknown")}`, true));
  for (const [g, ps] of groups) {
    const og = h("optgroup", { label: g || "—" });
    for (const p of ps) og.append(option(p, p, p === current));
    sel.append(og);
  }
  sel.value = current;
}

/** A group of checkboxes; `values()` gives the checked ones in list order. */
export function checkGroup(
  testid: string,
  items: { value: string; label: string; title?: string }[],
  checked: Iterable<string>,
): { el: HTMLElement; values(): string[] } {
  const on = new Set(checked);
  const boxes = items.map((it) => {
    const cb = h("input", { type: "checkbox", value: it.value, checked: on.has(it.value), "data-value": it.value });
    return { cb, label: h("label", { class: "check", title: it.title ?? null }, cb, it.label) };
  });
  const el = h("div", { class: "check-group", testid }, boxes.map((b) => b.label));
  return { el, values: () => boxes.filter((b) => b.cb.checked).map((b) => b.cb.value) };
}

/** Text input value: trimmed, null when empty (the key is then left out). */
export function textOrNull(input: HTMLInputElement | HTMLTextAreaElement): string | null {
  const v = input.value.trim();
  return v ? v : null;
}
