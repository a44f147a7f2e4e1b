// listScreen / loadList / offerUndo on a minimal stand-in DOM (the tests run in node).
import { beforeAll, describe, expect, it, vi } from "vitest";

class FakeText {
  constructor(public data: string) {}
}
class FakeEl {
  attrs: Record<string, string> = {};
  children: (FakeEl | FakeText)[] = [];
  className = "";
  textContent = "";
  hidden = false;
  disabled = false;
  listeners: Record<string, () => unknown> = {};
  constructor(public tagName: string) {}
  setAttribute(k: string, v: string): void {
    this.attrs[k] = v;
    if (k === "hidden") this.hidden = true;
  }
  addEventListener(k: string, f: () => unknown): void {
    this.listeners[k] = f;
  }
  append(...cs: (FakeEl | FakeText | string)[]): void {
    for (const c of cs) this.children.push(typeof c === "string" ? new FakeText(c) : c);
  }
  get firstChild(): FakeEl | FakeText | null {
    return this.children[0] ?? null;
  }
  removeChild(c: FakeEl | FakeText): void {
    this.children.splice(this.children.indexOf(c), 1);
  }
}
class FakeInput extends FakeEl {}

/** `tag.class[testid]` per element, indented by depth; text in quotes. */
function outline(n: FakeEl | FakeText, depth = 0): string[] {
  const pad = "  ".repeat(depth);
  if (n instanceof FakeText) return [`${pad}"${n.data}"`];
  const cls = n.className ? `.${n.className.replace(/ /g, ".")}` : "";
  const tid = n.attrs["data-testid"] ? `[${n.attrs["data-testid"]}]` : "";
  return [`${pad}${n.tagName}${cls}${tid}`, ...n.children.flatMap((c) => outline(c, depth + 1))];
}
const fake = (x: unknown): FakeEl => x as FakeEl;
const text = (n: FakeEl): string => n.children.map((c) => (c instanceof FakeText ? c.data : text(c))).join("");

let dom: typeof import("../src/dom");
beforeAll(async () => {
  vi.stubGlobal("document", {
    createElement: (tag: string) => (tag === "input" ? new FakeInput(tag) : new FakeEl(tag)),
    createTextNode: (s: string) => new FakeText(s),
  });
  vi.stubGlobal("HTMLInputElement", FakeInput);
  dom = await import("../src/dom");
});

describe("listScreen", () => {
  it("builds the toolbar, message slots and grid the screens and WebDriver tests rely on", () => {
    const add = dom.h("button", { class: "primary", testid: "x-add" }, "+ New");
    const s = dom.listScreen({ testid: "screen-x", title: "Things", actions: [add], headers: ["Id", "Actions"], empty: "None yet" });
    expect(outline(fake(s.root))).toEqual([
      "section.screen[screen-x]",
      "  div.toolbar",
      "    h2",
      '      "Things"',
      "    span.spacer",
      "    button.primary[x-add]",
      '      "+ New"',
      "  div.error",
      "  div.undo-bar",
      "  div.form-host",
      "  div.scroll",
      "    table.grid",
      "      thead",
      "        tr",
      "          th",
      '            "Id"',
      "          th",
      '            "Actions"',
      "      tbody",
      "    div.empty",
      '      "None yet"',
    ]);
    const root = fake(s.root);
    expect(root.children.slice(1, 4)).toEqual([s.listErr, s.undoBar, s.formHost]);
    expect(fake(s.body).tagName).toBe("tbody");
    expect([s.listErr, s.undoBar, s.empty].map((e) => fake(e).hidden)).toEqual([true, true, true]);
    expect(fake(s.formHost).hidden).toBe(false);
  });
});

describe("loadList", () => {
  it("hands the items over and clears an earlier error", async () => {
    const err = dom.h("div");
    dom.showError(err, "old");
    const seen: number[][] = [];
    await dom.loadList(err, async () => [1, 2], (v) => seen.push(v));
    expect(seen).toEqual([[1, 2]]);
    expect([err.hidden, err.textContent]).toEqual([true, ""]);
  });

  it("shows a failure and keeps what is shown", async () => {
    const err = dom.h("div");
    const use = vi.fn();
    await dom.loadList(err, () => Promise.reject(new Error("backend gone")), use);
    expect(use).not.toHaveBeenCalled();
    expect([err.hidden, err.textContent]).toEqual([false, "backend gone"]);
  });
});

describe("offerUndo", () => {
  function setup(restore: () => Promise<unknown>) {
    const bar = dom.h("div", { hidden: true });
    const reload = vi.fn(async () => {});
    dom.offerUndo(bar, { testid: "x-undo", message: "Deleted a", label: "Undo", restore, reload });
    const button = fake(bar).children[1] as FakeEl;
    return { bar, reload, button, click: () => button.listeners.click() as Promise<void> };
  }

  it("offers the undo, then restores and reloads", async () => {
    const restore = vi.fn(async () => {});
    const s = setup(restore);
    expect(s.bar.hidden).toBe(false);
    expect(text(fake(s.bar))).toBe("Deleted aUndo");
    expect(s.button.attrs["data-testid"]).toBe("x-undo");
    await s.click();
    expect(restore).toHaveBeenCalledOnce();
    expect(s.reload).toHaveBeenCalledOnce();
    expect([s.bar.hidden, s.button.disabled]).toEqual([true, true]);
  });

  it("replaces an earlier offer", () => {
    const s = setup(async () => {});
    dom.offerUndo(s.bar, { testid: "x-undo", message: "Deleted b", label: "Undo", restore: async () => {}, reload: async () => {} });
    expect(text(fake(s.bar))).toBe("Deleted bUndo");
  });

  it("says why the restore failed and does not reload", async () => {
    const s = setup(() => Promise.reject(JSON.stringify({ field: "id", message: "id taken" })));
    await s.click();
    expect(s.reload).not.toHaveBeenCalled();
    expect(s.bar.hidden).toBe(false);
    const last = fake(s.bar).children[2] as FakeEl;
    expect([last.className, text(last)]).toEqual(["error", "id taken"]);
  });
});
