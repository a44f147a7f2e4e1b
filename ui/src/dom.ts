// Tiny DOM helpers (no framework).
import { errorText, fieldError } from "./api";

type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;
export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2).toLowerCase(), v as EventListener);
    } else if (k === "testid") {
      el.setAttribute("data-testid", String(v));
    } else if (k === "class") {
      el.className = String(v);
    } else if (k === "style") {
      // Through the CSSOM: the web portal's CSP refuses style attributes.
      el.style.cssText = String(v);
    } else if (k === "value" && "value" in el) {
      (el as unknown as { value: string }).value = String(v);
    } else if (k === "checked" && el instanceof HTMLInputElement) {
      el.checked = Boolean(v);
    } else if (v === true) {
      el.setAttribute(k, "");
    } else {
      el.setAttribute(k, String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return el;
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function option(value: string, label: string, selected = false): HTMLOptionElement {
  const o = h("option", { value }, label);
  o.selected = selected;
  return o;
}

/** Shows `msg` in an error element (empty hides it). */
export function showError(el: HTMLElement, msg: string | null): void {
  el.textContent = msg ?? "";
  el.hidden = !msg;
}

/** The parts of a list screen that its code fills in and shows. */
export interface ListScreen {
  /** `section.screen`, to mount. */
  root: HTMLElement;
  /** The list's load error (hidden while empty). */
  listErr: HTMLDivElement;
  /** Where a deletion offers its undo (see `offerUndo`). */
  undoBar: HTMLDivElement;
  /** Where the add/edit form goes. */
  formHost: HTMLDivElement;
  /** The table's rows. */
  body: HTMLTableSectionElement;
  /** Shown instead of rows when there are none (hidden at first). */
  empty: HTMLDivElement;
}

/**
 * The common frame of a list-and-editor screen: a toolbar (title, spacer,
 * `actions`), the list error, the undo bar, the form host, then a scrolling
 * `table.grid` with one header cell per `headers` entry, and the empty note.
 * Classes and test ids are what the WebDriver tests look for.
 */
export function listScreen(o: { testid: string; title: string; actions: Child[]; headers: string[]; empty: string }): ListScreen {
  const listErr = h("div", { class: "error", hidden: true });
  const undoBar = h("div", { class: "undo-bar", hidden: true });
  const formHost = h("div", { class: "form-host" });
  const body = h("tbody");
  const empty = h("div", { class: "empty", hidden: true }, o.empty);
  const root = h(
    "section",
    { class: "screen", testid: o.testid },
    h("div", { class: "toolbar" }, h("h2", {}, o.title), h("span", { class: "spacer" }), o.actions),
    listErr,
    undoBar,
    formHost,
    h(
      "div",
      { class: "scroll" },
      h("table", { class: "grid" }, h("thead", {}, h("tr", {}, o.headers.map((x) => h("th", {}, x)))), body),
      empty,
    ),
  );
  return { root, listErr, undoBar, formHost, body, empty };
}

/**
 * Fetches a list and hands it to `use` (which stores and renders it);
 * `errEl` is cleared when the fetch succeeds and shows the error when
 * fetching or `use` fails. Never rejects.
 */
export async function loadList<T>(errEl: HTMLElement, fetch: () => Promise<T>, use: (items: T) => void): Promise<void> {
  try {
    const items = await fetch();
    showError(errEl, null);
    use(items);
  } catch (e) {
    showError(errEl, errorText(e));
  }
}

/**
 * Shows `message` and an undo button (`testid`, `label`) in `bar`. A click
 * runs `restore`; once it succeeds the bar hides and `reload` runs, if it
 * fails the error is added to the bar.
 */
export function offerUndo(
  bar: HTMLElement,
  o: { testid: string; message: string; label: string; restore: () => Promise<unknown>; reload: () => Promise<void> },
): void {
  clear(bar);
  const undo = h("button", { class: "small", testid: o.testid }, o.label);
  undo.addEventListener("click", async () => {
    undo.disabled = true;
    try {
      await o.restore();
      bar.hidden = true;
      await o.reload();
    } catch (e) {
      bar.append(h("span", { class: "error" }, fieldError(e).message));
    }
  });
  bar.append(h("span", {}, o.message), undo);
  bar.hidden = false;
}
