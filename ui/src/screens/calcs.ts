import { api, errorText, fieldError, type Calc, type FieldError } from "../api";
import { calcInputsText, caretParts } from "../alarmfmt";
import { clear, h, listScreen, loadList, offerUndo, showError } from "../dom";
import { t } from "../i18n";
import { fillChannelSelect, loadChannelPaths, textOrNull } from "../pickers";
import { type Screen } from "../state";
import { FieldErrors, liveCheck } from "../validate";

const MAX_INPUTS = 10;
const CALC_KEYS: (keyof Calc)[] = ["id", "name", "unit", "expr", "inputs", "tolerance"];
const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** The first letter not yet used as an input name. */
export function nextInputName(used: string[]): string {
  for (const c of LETTERS) if (!used.includes(c)) return c;
  return `X${used.length + 1}`;
}

export function calcsScreen(): Screen {
  let calcs: Calc[] = [];
  let paths: string[] = [];
  let pickers: Promise<void> = Promise.resolve();
  const addBtn = h("button", { class: "primary", testid: "calc-add" }, "+ ", t("calcs.add"));
  addBtn.addEventListener("click", () => void pickers.then(() => openEditor(null)));
  const { root, listErr, undoBar, formHost, body, empty } = listScreen({
    testid: "screen-calcs",
    title: t("calcs.title"),
    actions: [addBtn],
    headers: [t("calcs.channel"), t("calcs.name"), t("calcs.unit"), t("calcs.expr"), t("calcs.inputs"), t("calcs.tolerance"), t("common.actions")],
    empty: t("calcs.empty"),
  });
  let closeEditor: (() => void) | null = null;

  function openEditor(orig: Calc | null): void {
    closeEditor?.();
    const fe = new FieldErrors();
    const fld = (key: string, label: string, input: HTMLElement, hint?: string): HTMLElement =>
      fe.add(key, h("label", { class: "field", "data-field": key }, h("span", {}, label, hint ? h("small", { class: "muted" }, " ", hint) : null), input), input);

    const id = h("input", { testid: "calc-id", value: orig?.id ?? "", readonly: orig ? true : null, autocomplete: "off", spellcheck: "false" });
    const name = h("input", { testid: "calc-name", value: orig?.name ?? "", size: 24 });
    const unit = h("input", { testid: "calc-unit", class: "narrow", value: orig?.unit ?? "" });
    const expr = h("input", { testid: "calc-expr", class: "mono expr", value: orig?.expr ?? "", autocomplete: "off", spellcheck: "false", placeholder: "(A + B) * 2 - SQR(C)" });
    const caret = h("pre", { class: "caret", testid: "calc-caret", hidden: true, "aria-hidden": "true" });
    const tolerance = h("input", { testid: "calc-tolerance", class: "narrow", value: orig?.tolerance ?? "", placeholder: "1s" });
    const status = h("span", { class: "check-status", testid: "calc-check-status" });
    const save = h("button", { class: "primary", type: "submit", testid: "calc-save" }, t("common.save"));
    const cancel = h("button", { type: "button", testid: "calc-cancel" }, t("common.cancel"));

    // inputs: one row per variable
    interface InRow {
      el: HTMLElement;
      name: HTMLInputElement;
      channel: HTMLSelectElement;
    }
    const inRows: InRow[] = [];
    const inList = h("div", { class: "calc-inputs", testid: "calc-inputs" });
    const addIn = h("button", { type: "button", class: "small", testid: "calc-input-add" }, "+ ", t("calcs.addInput"));
    const inputsF = fe.add("inputs", h("div", { class: "field", "data-field": "inputs" }, h("span", {}, t("calcs.inputs"), h("small", { class: "muted" }, " ", t("calcs.inputsHint"))), inList, addIn), inList);

    function addRow(varName: string, path: string): void {
      const n = h("input", { testid: "calc-input-name", class: "var", value: varName, size: 4, autocomplete: "off", spellcheck: "false" });
      const ch = h("select", { testid: "calc-input-channel" });
      fillChannelSelect(ch, paths, path, t("pick.choose"));
      const rm = h("button", { type: "button", class: "small danger", testid: "calc-input-remove", title: t("calcs.removeInput") }, "×");
      const el = h("div", { class: "calc-input", testid: "calc-input" }, n, h("span", { class: "muted" }, "="), ch, rm);
      const row: InRow = { el, name: n, channel: ch };
      rm.addEventListener("click", () => {
        inRows.splice(inRows.indexOf(row), 1);
        el.remove();
        syncRows();
        check.schedule();
      });
      inRows.push(row);
      inList.append(el);
      syncRows();
    }

    /** Row error slots follow the variable names the rows have now. */
    function syncRows(): void {
      fe.remove("inputs");
      fe.add("inputs", inputsF, inList);
      for (const r of inRows) fe.add(`inputs.${r.name.value.trim()}`, r.el, r.name);
      addIn.disabled = inRows.length >= MAX_INPUTS;
      for (const r of inRows) (r.el.querySelector("button") as HTMLButtonElement).disabled = inRows.length <= 1;
    }
    addIn.addEventListener("click", () => {
      addRow(nextInputName(inRows.map((r) => r.name.value.trim())), "");
      inRows[inRows.length - 1].channel.focus();
      check.schedule();
    });
    const initial = Object.entries(orig?.inputs ?? {});
    if (!initial.length) initial.push(["A", ""]);
    for (const [k, v] of initial) addRow(k, v);

    const exprF = fld("expr", t("calcs.expr"), expr, t("calcs.exprHint"));
    exprF.insertBefore(caret, exprF.querySelector('[data-testid="field-error"]'));
    exprF.classList.add("grow");

    function build(): Calc {
      const c: Calc = { ...(structuredClone(orig ?? {}) as Calc) };
      for (const k of CALC_KEYS) delete c[k];
      c.id = id.value.trim();
      const nm = textOrNull(name);
      if (nm !== null) c.name = nm;
      const u = textOrNull(unit);
      if (u !== null) c.unit = u;
      c.expr = expr.value; // as typed: error columns refer to this text
      c.inputs = {};
      for (const r of inRows) c.inputs[r.name.value.trim()] = r.channel.value;
      const tol = textOrNull(tolerance);
      if (tol !== null) c.tolerance = tol;
      return c;
    }

    function showCheck(e: FieldError | null): void {
      syncRows();
      caret.hidden = true;
      fe.show(e, (key, err) => {
        if (key !== "expr" || !err.position) return;
        const p = caretParts(expr.value, err.position);
        clear(caret);
        caret.append(p.before, h("mark", {}, p.at), p.after, "\n", " ".repeat(p.pad), h("b", {}, "^"));
        caret.dataset.position = String(err.position);
        caret.hidden = false;
      });
      // two rows with one name become one key in the JSON: say so here
      const names = inRows.map((r) => r.name.value.trim());
      const dup = names.find((n, k) => names.indexOf(n) !== k);
      if (!e && dup !== undefined) fe.show({ field: `inputs.${dup}`, message: t("calcs.dupInput", { name: dup }) });
      const bad = Boolean(e) || dup !== undefined;
      status.textContent = bad ? "" : t("rules.valid");
      status.className = bad ? "check-status" : "check-status ok";
    }

    const check = liveCheck({ build, check: (c) => api.calcCheck(c), apply: showCheck });

    const form = h(
      "form",
      { class: "panel editor calc-form", testid: "calc-form", novalidate: true },
      h("h3", {}, orig ? t("calcs.formEdit", { id: orig.id }) : t("calcs.formAdd")),
      h("div", { class: "form-grid" }, fld("id", t("calcs.id"), id, t("calcs.idHint")), fld("name", t("calcs.name"), name), fld("unit", t("calcs.unit"), unit), fld("tolerance", t("calcs.tolerance"), tolerance, t("calcs.toleranceHint"))),
      h("div", { class: "form-grid" }, exprF),
      inputsF,
      fe.general,
      h("div", { class: "row" }, save, cancel, status),
    );
    form.addEventListener("input", () => check.schedule());
    form.addEventListener("change", () => check.schedule());
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      check.cancel();
      save.disabled = true;
      try {
        await api.calcSave(build());
        close();
        await load();
      } catch (e) {
        showCheck(fieldError(e));
        status.textContent = "";
      } finally {
        save.disabled = false;
      }
    });
    const close = (): void => {
      check.cancel();
      clear(formHost);
      closeEditor = null;
    };
    closeEditor = close;
    cancel.addEventListener("click", close);
    form.addEventListener("keydown", (e) => {
      if (e.key === "Escape") close();
    });
    formHost.append(form);
    form.scrollIntoView({ block: "nearest" });
    (orig ? expr : id).focus();
    if (orig) check.schedule();
  }

  function render(): void {
    clear(body);
    empty.hidden = calcs.length > 0;
    for (const c of calcs) {
      const rowErr = h("div", { class: "row-msg error", hidden: true, role: "alert" });
      const edit = h("button", { class: "small", testid: "calc-edit" }, t("common.edit"));
      edit.addEventListener("click", () => void pickers.then(() => openEditor(c)));
      const del = h("button", { class: "small danger", testid: "calc-delete" }, t("common.delete"));
      del.addEventListener("click", async () => {
        del.disabled = true;
        try {
          await api.calcDelete(c.id);
          showUndo(c);
          await load();
        } catch (e) {
          del.disabled = false;
          showError(rowErr, errorText(e));
        }
      });
      body.append(
        h(
          "tr",
          { testid: "calc-row", "data-calc-id": c.id },
          h("td", {}, h("code", {}, `calc/${c.id}`)),
          h("td", {}, c.name ?? ""),
          h("td", {}, c.unit ?? ""),
          h("td", { class: "mono" }, c.expr),
          h("td", { class: "mono small-text" }, calcInputsText(c)),
          h("td", {}, c.tolerance ?? h("span", { class: "muted" }, "1s")),
          h("td", { class: "actions" }, h("div", { class: "btns" }, edit, del), rowErr),
        ),
      );
    }
  }

  function showUndo(removed: Calc): void {
    offerUndo(undoBar, { testid: "calc-undo", message: t("calcs.deleted", { id: removed.id }), label: t("common.undo"), restore: () => api.calcSave(removed), reload: load });
  }

  function load(): Promise<void> {
    return loadList(listErr, () => api.calcsList(), (list) => {
      calcs = list;
      render();
    });
  }

  return {
    root,
    show() {
      pickers = loadChannelPaths()
        .then((p) => {
          paths = p;
        })
        .catch((e) => showError(listErr, errorText(e)));
      void load();
    },
  };
}
