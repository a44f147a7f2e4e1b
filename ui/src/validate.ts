// Live validation: the backend judges, the UI only asks it at the right moments
// and shows its answer next to the field it names.
import { fieldError, type FieldError } from "./api";
import { resolveField } from "./alarmfmt";
import { h } from "./dom";

export interface LiveCheck {
  /** Call on every edit: checks once the user paused for `delay` ms. */
  schedule(): void;
  /** Checks now (e.g. before saving), without waiting. */
  flush(): Promise<void>;
  cancel(): void;
}

/**
 * Debounced check: `build` takes the form's current value, `check` asks the
 * backend, `apply` receives null (valid) or the field error. A reply that
 * arrives after a newer check was started is dropped, so a slow answer for old
 * text never overwrites the answer for what is in the form now. An unchanged
 * value is not asked again.
 */
export function liveCheck<T>(opts: {
  delay?: number;
  build: () => T;
  check: (value: T) => Promise<FieldError | null>;
  apply: (err: FieldError | null) => void;
}): LiveCheck {
  const delay = opts.delay ?? 250;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let seq = 0;
  let lastKey: string | null = null;
  let lastResult: FieldError | null = null;

  async function run(): Promise<void> {
    timer = null;
    const value = opts.build();
    const key = JSON.stringify(value);
    if (key === lastKey) {
      seq++; // an older reply still on its way no longer applies
      opts.apply(lastResult);
      return;
    }
    const mine = ++seq;
    let result: FieldError | null;
    try {
      result = await opts.check(value);
    } catch (e) {
      result = fieldError(e);
    }
    if (mine !== seq) return;
    lastKey = key;
    lastResult = result ? fieldError(result) : null;
    opts.apply(lastResult);
  }

  return {
    schedule() {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => void run(), delay);
    },
    flush() {
      if (timer !== null) clearTimeout(timer);
      lastKey = null;
      return run();
    },
    cancel() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      seq++;
    },
  };
}

/**
 * Error slots of a form, one per field key ("id", "second.value", ...), each a
 * `field-error` element placed under its input; errors naming no known (or no
 * visible) field go to the general slot.
 */
export class FieldErrors {
  private slots = new Map<string, { box: HTMLElement; err: HTMLElement; input: HTMLElement | null }>();
  readonly general = h("div", { class: "error", testid: "field-error", "data-field": "", hidden: true });

  /** Adds an error slot at the end of `box` (the field's wrapper). */
  add(key: string, box: HTMLElement, input: HTMLElement | null = null): HTMLElement {
    // a box registered again (its key changed) keeps its one error element
    let err = [...box.children].find((c): c is HTMLElement => c instanceof HTMLElement && c.dataset.testid === "field-error");
    if (!err) {
      err = h("div", { class: "field-err", testid: "field-error", role: "alert", hidden: true });
      box.append(err);
    }
    err.dataset.field = key;
    this.slots.set(key, { box, err, input });
    return box;
  }

  remove(prefix: string): void {
    for (const k of [...this.slots.keys()]) if (k === prefix || k.startsWith(`${prefix}.`)) this.slots.delete(k);
  }

  keys(): string[] {
    return [...this.slots.keys()];
  }

  clear(): void {
    for (const s of this.slots.values()) {
      s.err.hidden = true;
      s.err.textContent = "";
      s.box.classList.remove("has-error");
      s.input?.removeAttribute("aria-invalid");
    }
    this.general.hidden = true;
    this.general.textContent = "";
  }

  /** Shows `e` at its field; returns the key used (null = general). */
  show(e: FieldError | null, extra?: (key: string, e: FieldError) => void): string | null {
    this.clear();
    if (!e) return null;
    const visible = [...this.slots.entries()].filter(([, s]) => isShown(s.box)).map(([k]) => k);
    const key = resolveField(e.field, visible);
    const slot = key ? this.slots.get(key) : undefined;
    if (!key || !slot) {
      this.general.textContent = e.field ? `${e.field}: ${e.message}` : e.message;
      this.general.hidden = false;
      return null;
    }
    slot.err.textContent = e.message;
    slot.err.hidden = false;
    slot.box.classList.add("has-error");
    slot.input?.setAttribute("aria-invalid", "true");
    extra?.(key, e);
    return key;
  }
}

function isShown(el: HTMLElement): boolean {
  for (let n: HTMLElement | null = el; n; n = n.parentElement) if (n.hidden) return false;
  return true;
}
