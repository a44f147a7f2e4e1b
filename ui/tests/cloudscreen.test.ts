// The Cloud screen on a minimal stand-in DOM (the tests run in node), over the
// `?mock` cloud backend: local sync, agents with the traffic warning, channels
// added to the Viewer's overlay, and the sign-in with its code step.
import { beforeAll, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...a: unknown[]) => invoke(...a) }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn() }));

class FakeText {
  constructor(public data: string) {}
}
class FakeEl {
  attrs: Record<string, string> = {};
  children: (FakeEl | FakeText)[] = [];
  className = "";
  private text = "";
  hidden = false;
  disabled = false;
  title = "";
  style: Record<string, string> = {};
  listeners: Record<string, (e?: unknown) => unknown> = {};
  constructor(public tagName: string) {}
  get classList() {
    return {
      toggle: (c: string, on?: boolean) => {
        const set = new Set(this.className.split(" ").filter(Boolean));
        if (on ?? !set.has(c)) set.add(c);
        else set.delete(c);
        this.className = [...set].join(" ");
      },
      contains: (c: string) => this.className.split(" ").includes(c),
    };
  }
  set textContent(v: string) {
    this.children = [];
    this.text = v;
  }
  get textContent(): string {
    return this.text + this.children.map((c) => (c instanceof FakeText ? c.data : c.textContent)).join("");
  }
  setAttribute(k: string, v: string): void {
    this.attrs[k] = v;
    if (k === "hidden") this.hidden = true;
  }
  addEventListener(k: string, f: (e?: unknown) => unknown): void {
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
class FakeInput extends FakeEl {
  value = "";
  checked = false;
}

function all(n: FakeEl, id: string): FakeEl[] {
  const out: FakeEl[] = [];
  const walk = (e: FakeEl): void => {
    if (e.attrs["data-testid"] === id) out.push(e);
    for (const c of e.children) if (c instanceof FakeEl) walk(c);
  };
  walk(n);
  return out;
}
function one(n: FakeEl, id: string): FakeEl {
  const found = all(n, id);
  expect(found.length, id).toBe(1);
  return found[0];
}
const flush = async (): Promise<void> => {
  for (let k = 0; k < 10; k++) await new Promise((r) => setTimeout(r, 0));
};
const submit = (form: FakeEl): unknown => form.listeners.submit({ preventDefault() {} });

let cloudScreen: typeof import("../src/screens/cloud").cloudScreen;
let overlay: typeof import("../src/overlay").overlay;
beforeAll(async () => {
  vi.stubGlobal("document", {
    createElement: (tag: string) => (tag === "input" ? new FakeInput(tag) : new FakeEl(tag)),
    createTextNode: (s: string) => new FakeText(s),
  });
  vi.stubGlobal("HTMLInputElement", FakeInput);
  const { cloudCommands } = await import("../src/mock-cloud");
  invoke.mockImplementation(async (cmd: string, args?: Record<string, unknown>) => cloudCommands[cmd](args ?? {}));
  cloudScreen = (await import("../src/screens/cloud")).cloudScreen;
  overlay = (await import("../src/overlay")).overlay;
});

describe("Cloud screen", () => {
  it("shows this agent's sync, the account's agents and adds a channel to the Viewer", async () => {
    const s = cloudScreen();
    const root = s.root as unknown as FakeEl;
    s.show();
    await flush();
    expect(one(root, "cloud-sync-backlog").textContent).toContain("120 samples in 1 batches");
    expect(one(root, "cloud-who").textContent).toContain("Alice Tanaka (alice) in account acme");
    const rows = all(root, "cloud-agent-row");
    expect(rows.map((r) => r.attrs["data-agent"])).toEqual(["a1", "a2"]);
    const traffic = all(root, "cloud-agent-traffic");
    expect(traffic[0].classList.contains("traffic-warn")).toBe(true);
    expect(traffic[1].classList.contains("traffic-warn")).toBe(false);
    expect(traffic[0].textContent).toBe("4.62 GB / 5.00 GB (92 %)");

    all(root, "cloud-agent-open")[1].listeners.click();
    await flush();
    const add = all(root, "cloud-add-to-viewer");
    expect(add.length).toBe(2);
    add[0].listeners.click();
    expect(overlay.list.map((c) => c.label)).toEqual(["acme/kyoto-lab · dmm1/VDC"]);
    expect(add[0].textContent).toBe("In Viewer ✓");
    add[0].listeners.click();
    expect(overlay.list).toEqual([]);
  });

  it("signs out, then in with a code step, showing refusals where the user acted", async () => {
    const s = cloudScreen();
    const root = s.root as unknown as FakeEl;
    s.show();
    await flush();
    all(root, "cloud-agent-open")[0].listeners.click();
    await flush();
    all(root, "cloud-add-to-viewer")[0].listeners.click();
    expect(overlay.list.length).toBe(1);
    one(root, "cloud-sign-out").listeners.click();
    await flush();
    expect(all(root, "cloud-agent-row")).toEqual([]);
    expect(overlay.list, "the account's channels leave the Viewer on sign-out").toEqual([]);
    const form = one(root, "cloud-signin-form");
    expect((one(root, "cloud-url") as FakeInput).value).toBe("https://cloud.meterdeck.example");
    (one(root, "cloud-user-id") as FakeInput).value = "otp";
    const pw = one(root, "cloud-password") as FakeInput;
    pw.value = "wrong";
    submit(form);
    await flush();
    expect(one(root, "cloud-signin-error").textContent).toBe("sign-in refused: wrong account, user or password");
    expect(pw.value).toBe("");
    pw.value = "demo";
    submit(form);
    await flush();
    const codeForm = one(root, "cloud-code-form");
    (one(root, "cloud-code") as FakeInput).value = "000000";
    submit(codeForm);
    await flush();
    expect(one(root, "cloud-code-error").textContent).toBe("sign-in refused: wrong code");
    (one(root, "cloud-code") as FakeInput).value = "123456";
    submit(codeForm);
    await flush();
    // No display name: the user is named once.
    expect(one(root, "cloud-who").textContent).toContain("Signed in as otp in account acme");
    expect(all(root, "cloud-agent-row").length).toBe(2);
  });
});
