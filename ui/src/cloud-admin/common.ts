// What the administration sections share: a section's frame, labelled
// fields, running an action with its error shown, a secret shown once
// with a copy button, and a two-click delete.
import { errorText } from "../api";
import { h, showError, type Child } from "../dom";
import { t } from "../i18n";

/** One administration section: mounted by the Cloud screen (desktop) or the portal (browser). */
export interface AdminSection {
  id: string;
  root: HTMLElement;
  /** (Re)reads what the section shows. */
  load(): Promise<void>;
}

export function section(testid: string, title: string, ...children: Child[]): HTMLElement {
  return h("div", { class: "admin-section", testid }, h("h3", {}, title), ...children);
}

export function field(label: string, input: HTMLElement, cls = ""): HTMLElement {
  return h("label", { class: `field${cls ? ` ${cls}` : ""}` }, h("span", {}, label), input);
}

export function errorBox(testid: string): HTMLDivElement {
  return h("div", { class: "error", testid, hidden: true });
}

/**
 * Runs `act` with `button` disabled; its error goes to `err` (cleared
 * first). Answers whether it succeeded.
 */
export async function run(err: HTMLElement, button: HTMLButtonElement | null, act: () => Promise<void>): Promise<boolean> {
  showError(err, null);
  if (button) button.disabled = true;
  try {
    await act();
    return true;
  } catch (e) {
    showError(err, errorText(e));
    return false;
  } finally {
    if (button) button.disabled = false;
  }
}

/** Writes `text` to the clipboard; the label says whether it worked. */
export function copyButton(text: string, testid: string): HTMLButtonElement {
  const b = h("button", { type: "button", class: "small", testid }, t("admin.copy"));
  b.addEventListener("click", () => {
    const done = (ok: boolean): void => {
      b.textContent = ok ? t("admin.copied") : t("admin.copyFailed");
    };
    if (!navigator.clipboard) return done(false);
    navigator.clipboard.writeText(text).then(
      () => done(true),
      () => done(false),
    );
  });
  return b;
}

/**
 * A secret the service answers once (temporary password, API token): the
 * text, a copy button and a note that it will not be shown again. `Done`
 * removes it from the page; nothing keeps it.
 */
export function shownOnce(testid: string, note: string, secret: string): HTMLElement {
  const done = h("button", { type: "button", class: "small", testid: `${testid}-done` }, t("admin.done"));
  const box = h(
    "div",
    { class: "panel shown-once", testid },
    h("div", { class: "warn" }, note),
    h("div", { class: "row" }, h("code", { class: "secret", testid: `${testid}-text` }, secret), copyButton(secret, `${testid}-copy`), done),
  );
  done.addEventListener("click", () => box.remove());
  return box;
}

/** A delete button that asks once more (`Confirm delete`) before `act`. */
export function deleteButton(testid: string, act: () => void): HTMLButtonElement {
  const b = h("button", { type: "button", class: "small danger", testid }, t("admin.delete"));
  let armed = false;
  b.addEventListener("click", () => {
    if (!armed) {
      armed = true;
      b.textContent = t("admin.confirmDelete");
      b.classList.add("armed");
      return;
    }
    act();
  });
  b.addEventListener("blur", () => {
    armed = false;
    b.textContent = t("admin.delete");
    b.classList.remove("armed");
  });
  return b;
}

/** Checkboxes, one per `options` entry ([value, label]); `picked()` reads them. */
export function checkList(testid: string, options: [string, string][], selected: string[]): { root: HTMLElement; picked(): string[] } {
  const boxes = options.map(([value, label]) => {
    const input = h("input", { type: "checkbox", value, testid: `${testid}-${value}`, checked: selected.includes(value) });
    return { value, input, el: h("label", { class: "check" }, input, label) };
  });
  const root = h("div", { class: "check-list", testid }, ...boxes.map((b) => b.el));
  if (!options.length) root.append(h("span", { class: "muted" }, t("common.none")));
  return { root, picked: () => boxes.filter((b) => b.input.checked).map((b) => b.value) };
}

export function list(items: string[]): string {
  return items.length ? items.join(", ") : t("common.none");
}
