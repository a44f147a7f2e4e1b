// The instrument form's family-specific parts, built from the family's
// registry entry: its instrument fields as inputs, and the legend of the
// channel table's columns (label, what it takes, required or default).
import { clear, h, option } from "../dom";
import { fieldHint, fieldLabel, fieldText, getPath, type FamilyInfo, type FieldSpec } from "../families";
import { t } from "../i18n";
import type { InstrumentConfig } from "../api";

/** An input for one field: a select for choices, else a text box. */
function input(f: FieldSpec, value: string): HTMLInputElement | HTMLSelectElement {
  const testid = `inst-field-${f.key}`;
  if (f.kind.type === "choice") {
    const empty = option("", f.default !== null ? `(${f.default})` : "—", value === "");
    return h("select", { testid }, empty, ...f.kind.values.map((v) => option(v, v, v === value)));
  }
  const numeric = f.kind.type === "integer" || f.kind.type === "number";
  return h("input", {
    testid,
    class: numeric ? "narrow" : "",
    inputmode: numeric ? "decimal" : null,
    placeholder: f.default !== null ? String(f.default) : "",
    value,
  });
}

/** The family's instrument fields; `entries()` reads what was typed, by key. */
export interface InstrumentFields {
  root: HTMLElement;
  /** Rebuilds the inputs for `fam`, filled from `cfg` (what the user typed for a key survives a family change). */
  show(fam: FamilyInfo | undefined, cfg: InstrumentConfig | null): void;
  entries(): Map<string, string>;
}

export function instrumentFields(): InstrumentFields {
  const root = h("div", { class: "field-group family-fields", testid: "inst-family-fields" });
  let inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  return {
    root,
    show(fam, cfg) {
      const typed = new Map([...inputs].map(([k, el]) => [k, el.value]));
      clear(root);
      inputs = new Map();
      for (const f of fam?.instrumentFields ?? []) {
        const el = input(f, typed.get(f.key) ?? fieldText(getPath(cfg, f.key)));
        inputs.set(f.key, el);
        root.append(h("label", { class: "field" }, h("span", {}, fieldLabel(f)), el));
      }
      root.hidden = inputs.size === 0;
    },
    entries() {
      return new Map([...inputs].map(([k, el]) => [k, el.value]));
    },
  };
}

/** "id, unit, query, …": the channel table's columns, for the textarea's hint. */
export function columnsHint(fam: FamilyInfo | undefined): string {
  return (fam?.channelFields ?? []).map(fieldLabel).join(", ");
}

/** One row per column of the channel table: position, label, what it takes. */
export function channelLegend(fam: FamilyInfo | undefined): HTMLElement {
  const words = { text: t("inst.fieldText"), number: t("inst.fieldNumber"), def: t("inst.fieldDefault") };
  const rows = (fam?.channelFields ?? []).map((f, k) =>
    h(
      "tr",
      { testid: "inst-column", "data-key": f.key },
      h("td", { class: "num" }, String(k + 1)),
      h("td", {}, fieldLabel(f), f.required ? h("span", { class: "req", title: t("inst.fieldRequired") }, " *") : null),
      h("td", {}, h("code", {}, f.key)),
      h("td", { class: "muted" }, fieldHint(f, words)),
    ),
  );
  return h(
    "div",
    { class: "channel-legend" },
    h("table", { class: "grid compact", testid: "inst-columns" }, h("tbody", {}, ...rows)),
    h("small", { class: "muted" }, t("inst.channelsQuote")),
  );
}
