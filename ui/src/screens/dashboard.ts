// The Dashboard screen: boards of panels (tabs), created, renamed,
// reordered, deleted, exported and imported; panels added and edited in a
// form, moved and resized on the grid by mouse or keyboard (panels/board.ts).
// Every change is saved by the backend at once; what it answers is shown.
// The desktop and the web portal share it: the portal passes its own
// source of readings (cloud data), the kinds it shows, file export/import
// through the browser, and whether the user may change boards.
import { api, errorText, type LiveEvent } from "../api";
import type { Board, Dashboards, GraphWindow, Panel, PanelKind } from "../bindings";
import { clear, h, showError } from "../dom";
import { t, type Key } from "../i18n";
import { boardView, type BoardView } from "../panels/board";
import { firstFree } from "../panels/layout";
import { app, type Screen } from "../state";
import { deskSource, type DeskSource } from "./dashboard-source";

export const KINDS: PanelKind[] = ["graph-value", "graph", "value", "image-values", "image", "alarm-list"];
const SIZES: Record<PanelKind, [number, number]> = {
  "graph-value": [6, 4],
  graph: [6, 4],
  value: [4, 2],
  "image-values": [6, 5],
  image: [4, 4],
  "alarm-list": [4, 4],
};
const WINDOWS: GraphWindow[] = ["hour", "day", "week"];

/** Board files through the browser (the portal): a download and an upload. */
export interface BoardFiles {
  exportHref(board: Board): string;
  /** `agent`: the site of a desktop file's `instrument/channel` paths. */
  importText(text: string, agent: string | null): Promise<Dashboards>;
  /** The sites an imported desktop board may show. */
  agents(): Promise<{ id: string; name: string }[]>;
}

export interface DashboardOptions {
  /** Where readings come from (default: the desktop's agent). */
  source?: DeskSource;
  /** Panel kinds offered, and a note on those left out. */
  kinds?: PanelKind[];
  kindsNote?: Key;
  files?: BoardFiles;
  /** Whether the user may change boards (default: yes). */
  editable?: () => boolean;
}

export function dashboardScreen(opts: DashboardOptions = {}): Screen {
  const src = opts.source ?? deskSource();
  const kinds = opts.kinds ?? KINDS;
  const editable = opts.editable ?? (() => true);
  let data: Dashboards = { boards: [], lastBoard: null };
  let current: number | null = null;
  let visible = false;
  let view: BoardView | null = null;

  const err = h("div", { class: "error", hidden: true, testid: "dash-error" });
  const tabs = h("div", { class: "board-tabs", role: "tablist", testid: "board-tabs" });
  const formHost = h("div", { class: "form-host" });
  const empty = h("div", { class: "empty dash-empty", hidden: true }, h("p", {}, t("dash.noBoards")));
  const area = h("div", { class: "board-area" });
  const btn = (key: Key, testid: string, onClick: () => void, cls = ""): HTMLButtonElement => {
    const b = h("button", { class: `small ${cls}`, testid }, t(key));
    b.addEventListener("click", onClick);
    return b;
  };
  const boardTools = h(
    "span",
    { class: "board-tools" },
    btn("dash.addPanel", "panel-new", () => panelForm(null), "primary"),
    btn("dash.rename", "board-rename", () => nameForm("rename")),
    btn("dash.moveLeft", "board-left", () => void shift(-1)),
    btn("dash.moveRight", "board-right", () => void shift(1)),
    btn("dash.export", "board-export", () => (opts.files ? download() : pathForm("export"))),
    btn("dash.delete", "board-delete", () => deleteForm(), "danger"),
  );
  const root = h(
    "section",
    { class: "screen dashboard-screen", testid: "screen-dashboard" },
    h("div", { class: "toolbar" }, h("h2", {}, t("dash.title")), tabs, h("span", { class: "spacer" }), boardTools, btn("dash.newBoard", "board-new", () => nameForm("new"), "edit-only"), btn("dash.import", "board-import", () => (opts.files ? uploadForm(opts.files) : pathForm("import")), "edit-only")),
    err,
    formHost,
    empty,
    h("div", { class: "scroll board-scroll" }, area),
  );

  const board = (): Board | null => data.boards.find((b) => b.id === current) ?? null;

  /** Shows what the backend answered after a change. */
  function apply(d: Dashboards, open: number | null = current): void {
    data = d;
    current = d.boards.some((b) => b.id === open) ? open : d.lastBoard;
    paint();
  }

  async function run(f: () => Promise<Dashboards | void>, open?: number | null): Promise<boolean> {
    try {
      const d = await f();
      showError(err, null);
      if (d) apply(d, open === undefined ? current : open);
      return true;
    } catch (e) {
      showError(err, errorText(e));
      return false;
    }
  }

  function paintTabs(): void {
    clear(tabs);
    for (const b of data.boards) {
      const tab = h("button", { class: `board-tab${b.id === current ? " active" : ""}`, role: "tab", testid: "board-tab", "data-id": b.id, "aria-selected": String(b.id === current) }, b.name);
      tab.addEventListener("click", () => {
        if (b.id === current) return;
        current = b.id;
        void api.boardOpen(b.id).catch(() => undefined);
        view?.destroy();
        paint();
      });
      tabs.append(tab);
    }
  }

  function paint(): void {
    paintTabs();
    const b = board();
    empty.hidden = data.boards.length > 0;
    boardTools.hidden = !b;
    // Who may not change boards sees them, and may export one.
    const ro = !editable();
    root.classList.toggle("read-only", ro);
    for (const el of root.querySelectorAll<HTMLElement>(".edit-only, .board-tools > button:not([data-testid=board-export])")) el.hidden = ro;
    if (!b) {
      view?.destroy();
      view = null;
      clear(area);
      return;
    }
    if (!view) {
      view = boardView(src, src.units(), {
        move: async (p, r) => {
          const ok = await run(() => api.panelUpdate(current!, { ...p, ...r }));
          if (!ok) throw new Error("refused");
        },
        edit: (p) => panelForm(p),
        remove: (p) => void run(() => api.panelRemove(current!, p.id)),
        place: async (p, placements) => {
          await run(() => api.panelUpdate(current!, { ...p, placements }));
        },
        readOnly: !editable(),
      });
      clear(area);
      area.append(view.el);
    }
    area.dataset.board = String(b.id);
    view.set(b);
  }

  async function load(): Promise<void> {
    try {
      await src.refresh();
      const d = await api.dashboardsList();
      showError(err, null);
      view?.destroy();
      view = null;
      apply(d, current ?? d.lastBoard);
    } catch (e) {
      showError(err, errorText(e));
    }
  }

  async function shift(dir: -1 | 1): Promise<void> {
    const ids = data.boards.map((b) => b.id);
    const k = ids.indexOf(current ?? -1);
    const j = k + dir;
    if (k < 0 || j < 0 || j >= ids.length) return;
    [ids[k], ids[j]] = [ids[j], ids[k]];
    await run(() => api.boardReorder(ids));
  }

  function closeForm(): void {
    clear(formHost);
  }

  function formFrame(testid: string, title: string, fields: (Node | null)[], submitKey: Key, onSubmit: (e: HTMLElement) => Promise<void>): HTMLFormElement {
    const fErr = h("div", { class: "error", hidden: true, testid: `${testid}-error` });
    const submit = h("button", { type: "submit", class: "primary", testid: `${testid}-save` }, t(submitKey));
    const cancel = h("button", { type: "button", testid: `${testid}-cancel` }, t("dash.cancel"));
    cancel.addEventListener("click", closeForm);
    const form = h("form", { class: "card dash-form", testid, novalidate: true }, h("div", { class: "form-title" }, title), ...fields, h("div", { class: "form-actions" }, submit, cancel), fErr);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      showError(fErr, null);
      try {
        await onSubmit(fErr);
      } catch (e) {
        showError(fErr, errorText(e));
      } finally {
        submit.disabled = false;
      }
    });
    form.addEventListener("keydown", (e) => {
      if (e.key === "Escape") closeForm();
    });
    clear(formHost);
    formHost.append(form);
    (form.querySelector("input, select") as HTMLElement | null)?.focus();
    return form;
  }

  function nameForm(mode: "new" | "rename"): void {
    const b = board();
    const name = h("input", { testid: "board-name", value: mode === "rename" ? (b?.name ?? "") : "", maxlength: 60, size: 30 });
    formFrame("board-form", mode === "new" ? t("dash.newBoard") : t("dash.rename"), [h("label", { class: "field" }, h("span", {}, t("dash.boardName")), name)], mode === "new" ? "dash.create" : "dash.save", async () => {
      const d = mode === "new" ? await api.boardCreate(name.value) : await api.boardRename(b!.id, name.value);
      closeForm();
      showError(err, null);
      view?.destroy();
      view = null;
      apply(d, mode === "new" ? d.lastBoard : current);
    });
  }

  function pathForm(mode: "export" | "import"): void {
    const b = board();
    const path = h("input", { testid: "board-path", size: 50, placeholder: "/home/me/board.json" });
    const done = h("div", { class: "ok-note", hidden: true, testid: "board-path-done" });
    formFrame("path-form", mode === "export" ? t("dash.exportTitle", { name: b?.name ?? "" }) : t("dash.importTitle"), [h("label", { class: "field" }, h("span", {}, t("dash.file")), path), done], mode === "export" ? "dash.export" : "dash.import", async () => {
      if (mode === "export") {
        const written = await api.boardExport(b!.id, path.value);
        done.textContent = t("dash.exported", { path: written });
        done.hidden = false;
      } else {
        const d = await api.boardImport(path.value);
        closeForm();
        view?.destroy();
        view = null;
        apply(d, d.lastBoard);
      }
    });
  }

  function download(): void {
    const b = board();
    if (!b || !opts.files) return;
    const a = h("a", { href: opts.files.exportHref(b), download: "" });
    document.body.append(a);
    a.click();
    a.remove();
  }

  function uploadForm(files: BoardFiles): void {
    const file = h("input", { type: "file", accept: ".json,application/json", testid: "board-file" });
    const agent = h("select", { testid: "board-agent" }, h("option", { value: "" }, t("dash.importSiteNamed")));
    void files.agents().then((list) => {
      for (const a of list) agent.append(h("option", { value: a.id }, `${a.name} (${a.id})`));
    }, () => undefined);
    formFrame(
      "upload-form",
      t("dash.importTitle"),
      [h("label", { class: "field" }, h("span", {}, t("dash.fileUpload")), file), h("label", { class: "field" }, h("span", {}, t("dash.importSite")), agent), h("p", { class: "muted small" }, t("dash.importSiteHint"))],
      "dash.import",
      async () => {
        const f = file.files?.[0];
        if (!f) throw new Error(t("dash.chooseFile"));
        const d = await files.importText(await f.text(), agent.value || null);
        closeForm();
        view?.destroy();
        view = null;
        apply(d, d.lastBoard);
      },
    );
  }

  function deleteForm(): void {
    const b = board();
    if (!b) return;
    formFrame("delete-form", t("dash.deleteConfirm", { name: b.name, n: b.panels.length }), [], "dash.delete", async () => {
      const d = await api.boardDelete(b.id);
      closeForm();
      view?.destroy();
      view = null;
      apply(d, null);
    });
  }

  function panelForm(editing: Panel | null): void {
    const b = board();
    if (!b) return;
    const kind = h("select", { testid: "panel-kind" }, kinds.map((k) => h("option", { value: k, selected: editing?.kind === k }, t(`dash.kind.${k}` as Key))));
    const title = h("input", { testid: "panel-title", value: editing?.title ?? "", maxlength: 80, size: 24 });
    const win = h("select", { testid: "panel-window" }, WINDOWS.map((w) => h("option", { value: w, selected: (editing?.window ?? "hour") === w }, t(`dash.window.${w}` as Key))));
    const chans = h("div", { class: "check-list", testid: "panel-channels" });
    const rules = h("div", { class: "check-list", testid: "panel-rules" });
    const imgPath = h("input", { testid: "panel-image-path", size: 40, placeholder: "/home/me/plant.png" });
    const imgUse = h("button", { type: "button", class: "small", testid: "panel-image-use" }, t("dash.copyImage"));
    const imgName = h("span", { class: "muted small", testid: "panel-image-name" }, editing?.image ?? "");
    let image: string | null = editing?.image ?? null;
    const rowWindow = h("label", { class: "field" }, h("span", {}, t("dash.window")), win);
    const rowChans = h("div", { class: "field" }, h("span", {}, t("dash.channels")), chans);
    const rowImage = h("div", { class: "field" }, h("span", {}, t("dash.image")), h("span", { class: "inline-row" }, imgPath, imgUse, imgName));
    const rowRules = h("div", { class: "field" }, h("span", {}, t("dash.rules")), rules);
    const form = formFrame(
      "panel-form",
      editing ? t("dash.editPanel") : t("dash.addPanel"),
      [h("div", { class: "form-row" }, h("label", { class: "field" }, h("span", {}, t("dash.kind")), kind), h("label", { class: "field" }, h("span", {}, t("dash.panelTitle")), title), rowWindow), opts.kindsNote ? h("p", { class: "muted small", testid: "panel-kinds-note" }, t(opts.kindsNote)) : null, rowImage, rowChans, rowRules],
      editing ? "dash.save" : "dash.add",
      async () => {
        const k = kind.value as PanelKind;
        const channels = [...chans.querySelectorAll<HTMLInputElement>("input:checked")].map((c) => c.value);
        const ruleIds = k === "alarm-list" ? [...rules.querySelectorAll<HTMLInputElement>("input:checked")].map((c) => c.value) : [];
        const hasImage = k === "image" || k === "image-values";
        const base = {
          kind: k,
          title: title.value.trim(),
          channels: k === "image" ? [] : channels,
          window: win.value as GraphWindow,
          image: hasImage ? image : null,
          placements: k === "image-values" ? (editing?.placements ?? []).filter((p) => channels.includes(p.channel)) : [],
          rules: ruleIds,
        };
        let d: Dashboards;
        if (editing) {
          d = await api.panelUpdate(b.id, { ...editing, ...base });
        } else {
          const [w, hh] = SIZES[k];
          const spot = firstFree(b.panels, w, hh);
          if (!spot) throw new Error(t("dash.boardFull"));
          d = await api.panelAdd(b.id, { id: 0, ...spot, ...base });
        }
        closeForm();
        showError(err, null);
        apply(d);
      },
    );
    form.classList.add("panel-form");
    imgUse.addEventListener("click", async () => {
      imgUse.disabled = true;
      try {
        image = await api.dashboardImageImport(imgPath.value);
        imgName.textContent = t("dash.imageCopied");
        form.querySelector<HTMLElement>("[data-testid=panel-form-error]")!.hidden = true;
      } catch (e) {
        showError(form.querySelector<HTMLElement>("[data-testid=panel-form-error]")!, errorText(e));
      } finally {
        imgUse.disabled = false;
      }
    });
    const sync = (): void => {
      const k = kind.value as PanelKind;
      rowWindow.hidden = !(k === "graph" || k === "graph-value");
      rowImage.hidden = !(k === "image" || k === "image-values");
      rowChans.hidden = k === "image";
      rowRules.hidden = k !== "alarm-list";
    };
    kind.addEventListener("change", sync);
    sync();
    void src.channels().then((list) => {
      for (const c of list) {
        const box = h("input", { type: "checkbox", value: c.path, checked: editing?.channels.includes(c.path) ?? false });
        chans.append(h("label", { class: "check", testid: "panel-channel", "data-path": c.path }, box, c.label ?? c.path, c.unit ? h("span", { class: "muted" }, ` ${c.unit}`) : null));
      }
      if (!list.length) chans.append(h("span", { class: "muted" }, t("dash.noChannels")));
    });
    void api.rulesList().then((list) => {
      for (const r of list) {
        const box = h("input", { type: "checkbox", value: r.id, checked: editing?.rules.includes(r.id) ?? false });
        rules.append(h("label", { class: "check", testid: "panel-rule", "data-rule": r.id }, box, r.name || r.id));
      }
      if (!list.length) rules.append(h("span", { class: "muted" }, t("dash.noRules")));
    }, () => undefined);
  }

  src.subscribe((u) => view?.update(u));
  app.alarmListeners.add(() => {
    if (visible) src.alarmsChanged();
  });

  return {
    root,
    show() {
      visible = true;
      void load();
    },
    hide() {
      visible = false;
      view?.destroy();
      view = null;
    },
    onLive(e: LiveEvent) {
      if (visible) src.feed(e);
    },
    tick() {
      // One paint a second: the readings gathered since the last tick, the ages moved on.
      if (visible) src.flush();
      view?.tick(Date.now());
    },
  };
}
