// An image (a photo of the plant, a drawing) with, for image-values
// panels, the latest values placed on it. A value is placed by dragging it
// from the tray under the image (or where it sits) onto the image; its
// place is kept relative to the image, so it stays put when resized.
import { h } from "../dom";
import { t } from "../i18n";
import { relativePoint } from "./layout";
import type { Placement } from "../bindings";
import type { ValueTile } from "./values";

export interface ImageView {
  el: HTMLElement;
  setUrl(url: string): void;
  /** The value tiles to show, with where they are placed (if at all). */
  place(tiles: Map<string, ValueTile>, placements: Placement[]): void;
}

/** `onPlace` receives the panel's new placements after a drop. */
export function imageView(withValues: boolean, onPlace: (placements: Placement[]) => void): ImageView {
  const img = h("img", { class: "panel-image", alt: "", draggable: "false", testid: "panel-image" });
  const stage = h("div", { class: "image-stage", testid: "image-stage" }, img);
  const tray = h("div", { class: "image-tray", testid: "image-tray", hidden: !withValues });
  const el = h("div", { class: "image-wrap" }, h("div", { class: "image-fit" }, stage), tray);
  let current: Placement[] = [];

  function startDrag(ev: PointerEvent, path: string, tile: HTMLElement): void {
    if (ev.button !== 0) return;
    ev.preventDefault();
    ev.stopPropagation();
    const ghost = tile.cloneNode(true) as HTMLElement;
    ghost.classList.add("drag-ghost");
    document.body.append(ghost);
    const move = (e: PointerEvent): void => {
      ghost.style.left = `${e.clientX}px`;
      ghost.style.top = `${e.clientY}px`;
      stage.classList.toggle("drop-target", inside(e));
    };
    const inside = (e: PointerEvent): boolean => {
      const b = img.getBoundingClientRect();
      return e.clientX >= b.left && e.clientX <= b.right && e.clientY >= b.top && e.clientY <= b.bottom;
    };
    const up = (e: PointerEvent): void => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      ghost.remove();
      stage.classList.remove("drop-target");
      if (!inside(e)) return;
      const p = relativePoint(e.clientX, e.clientY, img.getBoundingClientRect());
      onPlace([...current.filter((c) => c.channel !== path), { channel: path, x: p.x, y: p.y }]);
    };
    move(ev);
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  return {
    el,
    setUrl(url) {
      img.src = url;
    },
    place(tiles, placements) {
      current = placements;
      for (const n of [...stage.querySelectorAll(".placed")]) n.remove();
      tray.replaceChildren();
      for (const [path, tile] of tiles) {
        const at = placements.find((p) => p.channel === path);
        tile.el.onpointerdown = (e) => startDrag(e, path, tile.el);
        tile.el.classList.add("draggable");
        if (at) {
          const holder = h("div", { class: "placed", testid: "placed-value", "data-path": path, style: `left:${at.x * 100}%;top:${at.y * 100}%` }, tile.el);
          stage.append(holder);
        } else {
          tray.append(tile.el);
        }
      }
      if (withValues && !tray.childElementCount) tray.append(h("span", { class: "muted small" }, t("dash.allPlaced")));
      else if (withValues) tray.prepend(h("span", { class: "muted small" }, t("dash.dragHint")));
    },
  };
}
