// A board: its panels on the 12-column grid, each framed with its title
// and tools. A panel moves by dragging its title bar and resizes by its
// corner handle, or from the keyboard when focused: arrows move it by a
// cell, shift+arrows resize it. Every change goes to `hooks.move` (which
// saves it); the board shows it at once and puts it back if refused.
import { h } from "../dom";
import { t } from "../i18n";
import type { Board, Panel, Placement } from "../bindings";
import { panelBody, type PanelBody } from "./index";
import { dragRect, fits, keyRect, rowsShown, GRID_COLS, type Rect } from "./layout";
import type { PanelSource, SourceUpdate } from "./source";

export const ROW_PX = 64;
export const GAP_PX = 10;

export interface BoardHooks {
  move(panel: Panel, r: Rect): Promise<void>;
  edit(panel: Panel): void;
  remove(panel: Panel): void;
  place(panel: Panel, placements: Placement[]): Promise<void>;
  /** Shown only: no tools, no moving or resizing (the portal, for non-admins). */
  readOnly?: boolean;
}

interface Shown {
  panel: Panel;
  frame: HTMLElement;
  body: PanelBody;
  /** The panel's content settings; a change rebuilds the body. */
  key: string;
}

const content = (p: Panel): string => JSON.stringify({ ...p, x: 0, y: 0, w: 0, h: 0 });

export interface BoardView {
  el: HTMLElement;
  /** Shows `board` (keeps panels whose content did not change). */
  set(board: Board): void;
  update(u: SourceUpdate): void;
  tick(now: number): void;
  destroy(): void;
}

export function boardView(src: PanelSource, units: Map<string, string | null>, hooks: BoardHooks): BoardView {
  const el = h("div", { class: "board-grid", testid: "board-grid" });
  const shown = new Map<number, Shown>();

  function position(frame: HTMLElement, r: Rect): void {
    frame.style.gridColumn = `${r.x + 1} / span ${r.w}`;
    frame.style.gridRow = `${r.y + 1} / span ${r.h}`;
    frame.dataset.x = String(r.x);
    frame.dataset.y = String(r.y);
    frame.dataset.w = String(r.w);
    frame.dataset.h = String(r.h);
  }

  function rows(): void {
    const n = rowsShown([...shown.values()].map((s) => s.panel));
    el.style.gridTemplateRows = `repeat(${n}, ${ROW_PX}px)`;
  }

  function placed(): { id: number; x: number; y: number; w: number; h: number }[] {
    return [...shown.values()].map((s) => s.panel);
  }

  async function commit(s: Shown, r: Rect): Promise<void> {
    const was: Rect = { x: s.panel.x, y: s.panel.y, w: s.panel.w, h: s.panel.h };
    if (r.x === was.x && r.y === was.y && r.w === was.w && r.h === was.h) return;
    if (!fits(placed(), s.panel.id, r)) {
      position(s.frame, was);
      s.frame.classList.add("refused");
      setTimeout(() => s.frame.classList.remove("refused"), 400);
      return;
    }
    s.panel = { ...s.panel, ...r };
    position(s.frame, r);
    rows();
    try {
      await hooks.move(s.panel, r);
    } catch {
      s.panel = { ...s.panel, ...was };
      position(s.frame, was);
      rows();
    }
  }

  /** Pointer drag on the title bar (move) or the corner (resize). */
  function dragFrom(s: Shown, ev: PointerEvent, resize: boolean): void {
    if (ev.button !== 0 || (ev.target as HTMLElement).closest("button")) return;
    ev.preventDefault();
    const start = { x: ev.clientX, y: ev.clientY };
    const base: Rect = { x: s.panel.x, y: s.panel.y, w: s.panel.w, h: s.panel.h };
    const cellW = (el.clientWidth + GAP_PX) / GRID_COLS;
    const cellH = ROW_PX + GAP_PX;
    let r = base;
    s.frame.classList.add("dragging");
    const move = (e: PointerEvent): void => {
      r = dragRect(base, e.clientX - start.x, e.clientY - start.y, cellW, cellH, resize);
      position(s.frame, r);
      s.frame.classList.toggle("invalid", !fits(placed(), s.panel.id, r));
    };
    const up = (): void => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      s.frame.classList.remove("dragging", "invalid");
      void commit(s, r);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  function build(p: Panel): Shown {
    const frame = h("article", { class: `panel panel-${p.kind}`, tabindex: 0, testid: "panel", "data-kind": p.kind, "data-id": p.id, "aria-label": p.title || t(`dash.kind.${p.kind}` as never) });
    const edit = h("button", { class: "icon-btn", title: t("dash.editPanel"), testid: "panel-edit" }, "✎");
    const remove = h("button", { class: "icon-btn", title: t("dash.removePanel"), testid: "panel-remove" }, "✕");
    const head = h("header", { class: "panel-head", title: t("dash.moveHint") }, h("span", { class: "panel-title" }, p.title || t(`dash.kind.${p.kind}` as never)), p.kind === "graph" || p.kind === "graph-value" ? h("span", { class: "chip" }, t(`dash.window.${p.window}` as never)) : null, h("span", { class: "spacer" }), edit, remove);
    const grip = h("div", { class: "resize-grip", title: t("dash.resizeHint"), testid: "panel-resize" });
    const s: Shown = { panel: p, frame, body: null as unknown as PanelBody, key: content(p) };
    s.body = panelBody(p, src, units, (placements) => void hooks.place(s.panel, placements));
    if (hooks.readOnly) {
      edit.remove();
      remove.remove();
      head.title = "";
      frame.append(head, s.body.el);
      position(frame, p);
      return s;
    }
    frame.append(head, s.body.el, grip);
    edit.addEventListener("click", () => hooks.edit(s.panel));
    remove.addEventListener("click", () => hooks.remove(s.panel));
    head.addEventListener("pointerdown", (e) => dragFrom(s, e, false));
    grip.addEventListener("pointerdown", (e) => dragFrom(s, e, true));
    frame.addEventListener("keydown", (e) => {
      if (e.target !== frame) return;
      const r = keyRect(s.panel, e.key, e.shiftKey);
      if (!r) return;
      e.preventDefault();
      void commit(s, r);
    });
    position(frame, p);
    return s;
  }

  return {
    el,
    set(board) {
      const ids = new Set(board.panels.map((p) => p.id));
      for (const [id, s] of shown) {
        if (!ids.has(id)) {
          s.body.destroy();
          s.frame.remove();
          shown.delete(id);
        }
      }
      for (const p of board.panels) {
        const old = shown.get(p.id);
        if (old && old.key === content(p)) {
          old.panel = p;
          position(old.frame, p);
          continue;
        }
        const s = build(p);
        if (old) {
          old.body.destroy();
          old.frame.replaceWith(s.frame);
        } else {
          el.append(s.frame);
        }
        shown.set(p.id, s);
        s.body.load();
      }
      rows();
    },
    update(u) {
      for (const s of shown.values()) s.body.update(u);
    },
    tick(now) {
      for (const s of shown.values()) s.body.tick(now);
    },
    destroy() {
      for (const s of shown.values()) s.body.destroy();
      shown.clear();
      el.replaceChildren();
    },
  };
}
