import {
  api,
  errorText,
  fieldError,
  type AlarmKind,
  type Combine,
  type CompareOp,
  type DestinationView,
  type Rule,
  type SecondCondition,
  type Severity,
  type SpecialKind,
  type TimeWindow,
  type Weekday,
} from "../api";
import { numberOrText, ruleSummary, SEVERITIES } from "../alarmfmt";
import { clear, h, listScreen, loadList, offerUndo, option, showError } from "../dom";
import { t, tDyn } from "../i18n";
import { checkGroup, fillChannelSelect, loadChannelPaths, textOrNull } from "../pickers";
import { app, type Screen } from "../state";
import { FieldErrors, liveCheck } from "../validate";
import { severityPill } from "./alarms";

const KINDS: AlarmKind[] = ["threshold", "connection", "special", "storage", "new_file"];
const OPS: CompareOp[] = [">", ">=", "<=", "<", "outside_incl", "outside_excl"];
const DAYS: Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const SPECIALS: SpecialKind[] = ["no-data", "over-range", "under-range", "burn-out", "invalid"];
/** Keys the editor owns; any other key of a loaded rule is kept as it was. */
const RULE_KEYS: (keyof Rule)[] = [
  "id", "name", "enabled", "severity", "kind", "channel", "op", "value", "low", "high", "deadband", "second",
  "instrument", "specials", "below", "pattern", "filter", "window", "notify_on_return", "destinations", "reminder", "message",
];

const isOutside = (op: string): boolean => op === "outside_incl" || op === "outside_excl";
const numText = (v: number | null | undefined): string => (v === null || v === undefined ? "" : String(v));
const testid = (key: string): string => `rule-${key.replace(/\./g, "-")}`;

function opSelect(key: string, current: string | null | undefined): HTMLSelectElement {
  return h("select", { testid: testid(key) }, ...OPS.map((o) => option(o, tDyn(`rules.op.${o}`, o), o === (current ?? ">"))));
}

export function rulesScreen(): Screen {
  let rules: Rule[] = [];
  let dests: DestinationView[] = [];
  let paths: string[] = [];
  const addBtn = h("button", { class: "primary", testid: "rule-add" }, "+ ", t("rules.add"));
  // the editor's channel and destination pickers need these first
  let pickers: Promise<void> = Promise.resolve();
  addBtn.addEventListener("click", () => void pickers.then(() => openEditor(null)));
  const { root, listErr, undoBar, formHost, body, empty } = listScreen({
    testid: "screen-rules",
    title: t("rules.title"),
    actions: [addBtn],
    headers: [t("rules.on"), t("rules.id"), t("rules.name"), t("rules.severity"), t("rules.kind"), t("rules.condition"), t("rules.destinations"), t("common.actions")],
    empty: t("rules.empty"),
  });
  let closeEditor: (() => void) | null = null;

  // ---------------------------------------------------------------- editor
  function openEditor(orig: Rule | null): void {
    closeEditor?.();
    const fe = new FieldErrors();
    const fld = (key: string, label: string, input: HTMLElement, hint?: string): HTMLElement =>
      fe.add(
        key,
        h("label", { class: "field", "data-field": key }, h("span", {}, label, hint ? h("small", { class: "muted" }, " ", hint) : null), input),
        input,
      );
    const box = (key: string, label: string, content: HTMLElement, hint?: string): HTMLElement =>
      fe.add(key, h("div", { class: "field", "data-field": key }, h("span", {}, label, hint ? h("small", { class: "muted" }, " ", hint) : null), content), content);

    const o = orig ?? { id: "", kind: "threshold" as AlarmKind };
    const id = h("input", { testid: "rule-id", value: o.id, readonly: orig ? true : null, autocomplete: "off", spellcheck: "false" });
    const name = h("input", { testid: "rule-name", value: o.name ?? "", size: 28 });
    const enabled = h("input", { type: "checkbox", testid: "rule-enabled", checked: o.enabled !== false });
    const severity = h("select", { testid: "rule-severity" }, ...SEVERITIES.map((s) => option(s, tDyn(`sev.${s}`, s), s === (o.severity ?? "medium"))));
    const kind = h("select", { testid: "rule-kind" }, ...KINDS.map((k) => option(k, tDyn(`rules.kind.${k}`, k), k === o.kind)));

    // threshold / special
    const channel = h("select", { testid: "rule-channel" });
    const op = opSelect("op", o.op);
    const value = h("input", { testid: "rule-value", class: "narrow", inputmode: "decimal", value: numText(o.value) });
    const low = h("input", { testid: "rule-low", class: "narrow", inputmode: "decimal", value: numText(o.low) });
    const high = h("input", { testid: "rule-high", class: "narrow", inputmode: "decimal", value: numText(o.high) });
    const deadband = h("input", { testid: "rule-deadband", class: "narrow", inputmode: "decimal", value: numText(o.deadband), placeholder: "0" });
    const s2: Partial<SecondCondition> = o.second ?? {};
    const secondOn = h("input", { type: "checkbox", testid: "rule-second-on", checked: Boolean(o.second) });
    const s2channel = h("select", { testid: "rule-second-channel" });
    const s2op = opSelect("second.op", s2.op);
    const s2value = h("input", { testid: "rule-second-value", class: "narrow", inputmode: "decimal", value: numText(s2.value) });
    const s2low = h("input", { testid: "rule-second-low", class: "narrow", inputmode: "decimal", value: numText(s2.low) });
    const s2high = h("input", { testid: "rule-second-high", class: "narrow", inputmode: "decimal", value: numText(s2.high) });
    const s2combine = h(
      "select",
      { testid: "rule-second-combine" },
      ...(["and", "or"] as Combine[]).map((c) => option(c, tDyn(`rules.combine.${c}`, c), c === (s2.combine ?? "and"))),
    );
    const fillChannels = (): void => {
      fillChannelSelect(channel, paths, channel.value || (o.channel ?? ""), kind.value === "special" ? t("rules.anyChannel") : t("pick.choose"));
      fillChannelSelect(s2channel, paths, s2channel.value || (s2.channel ?? ""), t("pick.choose"));
    };
    fillChannels();
    // connection
    const instrument = h("select", { testid: "rule-instrument" }, option("", t("rules.anyInstrument")));
    const instIds = app.instruments.map((v) => v.config.id);
    if (o.instrument && !instIds.includes(o.instrument)) instIds.push(o.instrument);
    for (const i of instIds) instrument.append(option(i, i, i === o.instrument));
    // special
    const specials = checkGroup(
      "rule-specials",
      SPECIALS.map((k) => ({ value: k, label: tDyn(`special.${k}`, k) })),
      o.specials ?? [],
    );
    // new file (issue 14): the instrument select above, and a name pattern
    const pattern = h("input", { testid: "rule-pattern", value: o.pattern ?? "", placeholder: "*.CSV", size: 18 });
    // storage
    const below = h("input", { testid: "rule-below", class: "narrow", value: o.below ?? "", placeholder: "1GB" });
    // timing
    const filter = h("input", { testid: "rule-filter", class: "narrow", value: o.filter ?? "", placeholder: "0s" });
    const w: TimeWindow = o.window ?? {};
    const windowOn = h("input", { type: "checkbox", testid: "rule-window-on", checked: Boolean(o.window) });
    const days = checkGroup(
      "rule-window-days",
      DAYS.map((d) => ({ value: d, label: t(`day.${d}` as "day.mon") })),
      o.window ? (w.days ?? []) : ["mon", "tue", "wed", "thu", "fri"],
    );
    const from = h("input", { testid: "rule-window-from", class: "time", value: w.from ?? "", placeholder: "08:00", size: 5 });
    const to = h("input", { testid: "rule-window-to", class: "time", value: w.to ?? "", placeholder: "18:00", size: 5 });
    const tz = h("input", { testid: "rule-window-tz", value: w.tz ?? "", placeholder: t("rules.tzSystem"), list: "rule-tz-list", size: 18 });
    const zones = h("datalist", { id: "rule-tz-list" });
    try {
      const sup = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf;
      for (const z of sup ? sup("timeZone") : []) zones.append(h("option", { value: z }));
    } catch {
      /* free text only */
    }
    // notification
    const notifyReturn = h("input", { type: "checkbox", testid: "rule-notify_on_return", checked: o.notify_on_return === true });
    const destItems = dests.map((d) => ({ value: d.id, label: d.name ? `${d.name} (${d.id})` : d.id, title: tDyn(`dest.kind.${d.kind}`, d.kind) }));
    for (const d of o.destinations ?? []) if (!dests.some((x) => x.id === d)) destItems.push({ value: d, label: `${d} ${t("pick.unknown")}`, title: "" });
    const destinations = checkGroup("rule-destinations", destItems, o.destinations ?? []);
    if (!destItems.length) destinations.el.append(h("span", { class: "muted" }, t("rules.noDestinations")));
    const reminder = h("input", { testid: "rule-reminder", class: "narrow", value: o.reminder ?? "", placeholder: "15m" });
    const message = h("input", { testid: "rule-message", value: o.message ?? "", size: 48 });

    const status = h("span", { class: "check-status", testid: "rule-check-status" });
    const save = h("button", { class: "primary", type: "submit", testid: "rule-save" }, t("common.save"));
    const cancel = h("button", { type: "button", testid: "rule-cancel" }, t("common.cancel"));

    // layout
    const valueF = fld("value", t("rules.value"), value);
    const lowF = fld("low", t("rules.low"), low);
    const highF = fld("high", t("rules.high"), high);
    const s2valueF = fld("second.value", t("rules.value"), s2value);
    const s2lowF = fld("second.low", t("rules.low"), s2low);
    const s2highF = fld("second.high", t("rules.high"), s2high);
    const secondBox = h(
      "div",
      { class: "form-grid sub" },
      fld("second.combine", t("rules.combine"), s2combine),
      fld("second.channel", t("rules.channel"), s2channel),
      fld("second.op", t("rules.op"), s2op),
      s2valueF,
      s2lowF,
      s2highF,
    );
    const secondF = fe.add("second", h("div", { class: "field-block" }, h("label", { class: "check" }, secondOn, t("rules.second")), secondBox), secondOn);
    const thresholdBox = h(
      "div",
      { class: "kind-box" },
      h("div", { class: "form-grid" }, fld("op", t("rules.op"), op), valueF, lowF, highF, fld("deadband", t("rules.deadband"), deadband, t("rules.deadbandHint"))),
      secondF,
    );
    const channelF = fld("channel", t("rules.channel"), channel);
    const instrumentF = fld("instrument", t("rules.instrument"), instrument);
    const connectionBox = h("div", { class: "kind-box form-grid" }, instrumentF);
    const newFileBox = h("div", { class: "kind-box form-grid" }, fld("pattern", t("rules.pattern"), pattern, t("rules.patternHint")));
    const specialBox = h("div", { class: "kind-box" }, box("specials", t("rules.specials"), specials.el, t("rules.specialsHint")));
    const storageBox = h("div", { class: "kind-box form-grid" }, fld("below", t("rules.below"), below, t("rules.belowHint")));
    const windowBox = h(
      "div",
      { class: "form-grid sub" },
      box("window.days", t("rules.days"), days.el),
      fld("window.from", t("rules.from"), from),
      fld("window.to", t("rules.to"), to),
      fld("window.tz", t("rules.tz"), tz),
      zones,
    );
    const windowF = fe.add("window", h("div", { class: "field-block" }, h("label", { class: "check" }, windowOn, t("rules.window"), h("small", { class: "muted" }, " ", t("rules.windowHint"))), windowBox), windowOn);

    const sync = (): void => {
      const k = kind.value as AlarmKind;
      thresholdBox.hidden = k !== "threshold";
      connectionBox.hidden = k !== "connection" && k !== "new_file";
      newFileBox.hidden = k !== "new_file";
      // A new file raises at once: no filter or time window.
      timingF.hidden = k === "new_file";
      specialBox.hidden = k !== "special";
      storageBox.hidden = k !== "storage";
      channelF.hidden = k !== "threshold" && k !== "special";
      const out = isOutside(op.value);
      valueF.hidden = out;
      lowF.hidden = highF.hidden = !out;
      secondBox.hidden = !secondOn.checked;
      const out2 = isOutside(s2op.value);
      s2valueF.hidden = out2;
      s2lowF.hidden = s2highF.hidden = !out2;
      windowBox.hidden = !windowOn.checked;
      const empty0 = channel.options[0];
      if (empty0) empty0.textContent = k === "special" ? t("rules.anyChannel") : t("pick.choose");
    };

    const section = (title: string, ...c: HTMLElement[]): HTMLElement => h("fieldset", { class: "form-section" }, h("legend", {}, title), ...c);
    const timingF = section(t("rules.timing"), h("div", { class: "form-grid" }, fld("filter", t("rules.filter"), filter, t("rules.filterHint"))), windowF);
    const form = h(
      "form",
      { class: "panel editor", testid: "rule-form", novalidate: true },
      h("h3", {}, orig ? t("rules.formEdit", { id: orig.id }) : t("rules.formAdd")),
      section(
        t("rules.general"),
        h(
          "div",
          { class: "form-grid" },
          fld("id", t("rules.id"), id),
          fld("name", t("rules.name"), name),
          fld("severity", t("rules.severity"), severity),
          fld("kind", t("rules.kind"), kind),
          fe.add("enabled", h("label", { class: "check field-check" }, enabled, t("rules.enabled")), enabled),
        ),
      ),
      section(t("rules.condition"), h("div", { class: "form-grid" }, channelF), thresholdBox, connectionBox, newFileBox, specialBox, storageBox),
      timingF,
      section(
        t("rules.notification"),
        box("destinations", t("rules.destinations"), destinations.el),
        h(
          "div",
          { class: "form-grid" },
          fe.add("notify_on_return", h("label", { class: "check field-check" }, notifyReturn, t("rules.notifyOnReturn")), notifyReturn),
          fld("reminder", t("rules.reminder"), reminder, t("rules.reminderHint")),
          fld("message", t("rules.message"), message),
        ),
      ),
      fe.general,
      h("div", { class: "row" }, save, cancel, status),
    );

    /** The rule as typed; keys of hidden parts are left out. */
    function build(): Rule {
      const r: Rule = { ...(structuredClone(orig ?? {}) as Rule) };
      for (const k of RULE_KEYS) delete r[k];
      const k = kind.value as AlarmKind;
      r.id = id.value.trim();
      const nm = textOrNull(name);
      if (nm !== null) r.name = nm;
      r.enabled = enabled.checked;
      r.severity = severity.value as Severity;
      r.kind = k;
      if (k === "threshold") {
        r.channel = channel.value;
        r.op = op.value as CompareOp;
        if (isOutside(op.value)) {
          r.low = numberOrText(low.value);
          r.high = numberOrText(high.value);
        } else r.value = numberOrText(value.value);
        r.deadband = numberOrText(deadband.value);
        if (secondOn.checked) {
          const s: SecondCondition = { channel: s2channel.value, op: s2op.value as CompareOp, combine: s2combine.value as Combine };
          if (isOutside(s2op.value)) {
            s.low = numberOrText(s2low.value);
            s.high = numberOrText(s2high.value);
          } else s.value = numberOrText(s2value.value);
          r.second = s;
        }
      } else if (k === "connection") {
        if (instrument.value) r.instrument = instrument.value;
      } else if (k === "new_file") {
        if (instrument.value) r.instrument = instrument.value;
        const pat = textOrNull(pattern);
        if (pat !== null) r.pattern = pat;
      } else if (k === "special") {
        if (channel.value) r.channel = channel.value;
        const sp = specials.values();
        if (sp.length) r.specials = sp as SpecialKind[];
      } else if (k === "storage") {
        const b = textOrNull(below);
        if (b !== null) r.below = b;
      }
      const f = k === "new_file" ? null : textOrNull(filter);
      if (f !== null) r.filter = f;
      if (windowOn.checked && k !== "new_file") {
        const win: TimeWindow = { days: days.values() as Weekday[], from: from.value.trim(), to: to.value.trim() };
        const z = textOrNull(tz);
        if (z !== null) win.tz = z;
        r.window = win;
      }
      r.notify_on_return = notifyReturn.checked;
      const ds = destinations.values();
      if (ds.length) r.destinations = ds;
      const rem = textOrNull(reminder);
      if (rem !== null) r.reminder = rem;
      const msg = textOrNull(message);
      if (msg !== null) r.message = msg;
      // numbers left empty are not sent
      for (const key of ["value", "low", "high", "deadband"] as const) if (r[key] === undefined) delete r[key];
      if (r.second) for (const key of ["value", "low", "high"] as const) if (r.second[key] === undefined) delete r.second[key];
      return r;
    }

    const check = liveCheck({
      build,
      check: (r) => api.ruleCheck(r),
      apply: (e) => {
        fe.show(e);
        status.textContent = e ? "" : t("rules.valid");
        status.className = e ? "check-status" : "check-status ok";
      },
    });
    form.addEventListener("input", () => check.schedule());
    form.addEventListener("change", () => {
      sync();
      check.schedule();
    });
    kind.addEventListener("change", fillChannels);

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      check.cancel();
      save.disabled = true;
      try {
        await api.ruleSave(build());
        close();
        await load();
      } catch (e) {
        fe.show(fieldError(e));
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
    sync();
    formHost.append(form);
    form.scrollIntoView({ block: "nearest" });
    (orig ? name : id).focus();
    if (orig) check.schedule();
  }

  // ---------------------------------------------------------------- list
  function render(): void {
    clear(body);
    empty.hidden = rules.length > 0;
    for (const r of rules) {
      const rowErr = h("div", { class: "row-msg error", hidden: true, role: "alert" });
      const toggle = h("input", { type: "checkbox", testid: "rule-enabled-toggle", checked: r.enabled !== false, title: t("rules.enabled") });
      toggle.addEventListener("change", async () => {
        showError(rowErr, null);
        toggle.disabled = true;
        try {
          await api.ruleSetEnabled(r.id, toggle.checked);
          r.enabled = toggle.checked;
          tr.classList.toggle("disabled", !toggle.checked);
        } catch (e) {
          toggle.checked = !toggle.checked;
          showError(rowErr, errorText(e));
        } finally {
          toggle.disabled = false;
        }
      });
      const edit = h("button", { class: "small", testid: "rule-edit" }, t("common.edit"));
      edit.addEventListener("click", () => void pickers.then(() => openEditor(r)));
      const del = h("button", { class: "small danger", testid: "rule-delete" }, t("common.delete"));
      del.addEventListener("click", async () => {
        del.disabled = true;
        try {
          await api.ruleDelete(r.id);
          showUndo(r);
          await load();
        } catch (e) {
          del.disabled = false;
          showError(rowErr, errorText(e));
        }
      });
      const tr = h(
        "tr",
        { testid: "rule-row", "data-rule-id": r.id, class: r.enabled === false ? "disabled" : "" },
        h("td", { class: "center" }, toggle),
        h("td", {}, h("code", {}, r.id)),
        h("td", {}, r.name ?? ""),
        h("td", {}, severityPill(r.severity ?? "medium")),
        h("td", {}, tDyn(`rules.kind.${r.kind}`, r.kind)),
        h("td", { class: "mono cond" }, ruleSummary(r)),
        h("td", {}, (r.destinations ?? []).join(", ")),
        h("td", { class: "actions" }, h("div", { class: "btns" }, edit, del), rowErr),
      );
      body.append(tr);
    }
  }

  function showUndo(removed: Rule): void {
    offerUndo(undoBar, { testid: "rule-undo", message: t("rules.deleted", { id: removed.id }), label: t("common.undo"), restore: () => api.ruleSave(removed), reload: load });
  }

  function load(): Promise<void> {
    return loadList(listErr, () => api.rulesList(), (list) => {
      rules = list;
      render();
    });
  }

  async function loadPickers(): Promise<void> {
    try {
      [paths, dests] = await Promise.all([loadChannelPaths(), api.destinationsList()]);
    } catch (e) {
      showError(listErr, errorText(e));
    }
  }

  return {
    root,
    show() {
      pickers = loadPickers();
      void load();
    },
  };
}
