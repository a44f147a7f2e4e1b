// Reports: saved templates (create, edit, delete), "generate now" with the
// backend's progress, the generated reports (open, save a copy). Schedules
// run in the agent; this screen only edits them and lists what was made.
import { api, errorText, events, fieldError, type RangeKind, type ReportRun, type ReportSchedule, type SavedTemplate } from "../api";
import { clear, h, listScreen, loadList, option, showError } from "../dom";
import { t, tDyn } from "../i18n";
import { checkGroup, loadChannelPaths } from "../pickers";
import { type Screen } from "../state";
import { formatDateTime, getTimeZone } from "../time";
import { FieldErrors } from "../validate";

const RANGES = ["previous_day", "previous_week", "previous_month"] as const;
const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

export function scheduleText(s: ReportSchedule | null | undefined): string {
  if (!s) return t("reports.noSchedule");
  if (s.every === "daily") return t("reports.daily", { at: s.at });
  if (s.every === "weekly") return t("reports.weekly", { day: tDyn(`weekday.${s.weekday}`, s.weekday), at: s.at });
  return t("reports.monthly", { day: String(s.day), at: s.at });
}

export function rangeText(r: RangeKind): string {
  return r.kind === "fixed" ? `${formatDateTime(r.from)} – ${formatDateTime(r.to)}` : tDyn(`reports.range.${r.kind}`, r.kind);
}

export function reportsScreen(): Screen {
  let templates: SavedTemplate[] = [];
  let runs: ReportRun[] = [];
  let paths: string[] = [];
  let destIds: string[] = [];
  const addBtn = h("button", { class: "primary", testid: "report-add" }, "+ ", t("reports.add"));
  addBtn.addEventListener("click", () => openEditor(null));
  const { root, listErr, formHost, body, empty } = listScreen({
    testid: "screen-reports",
    title: t("reports.title"),
    actions: [addBtn],
    headers: [t("reports.name"), t("reports.reportTitle"), t("reports.range"), t("reports.schedule"), t("reports.destinations"), t("common.actions")],
    empty: t("reports.empty"),
  });
  const progress = h("div", { class: "report-progress", testid: "report-progress", hidden: true });
  const bar = h("progress", { max: 1, value: 0 });
  const progressText = h("span", {});
  progress.append(bar, " ", progressText);
  const runsErr = h("div", { class: "error", hidden: true });
  const runsBody = h("tbody");
  const runsEmpty = h("div", { class: "empty", hidden: true }, t("reports.noRuns"));
  root.append(
    progress,
    h("h3", {}, t("reports.generated")),
    runsErr,
    h(
      "div",
      { class: "scroll" },
      h("table", { class: "grid", testid: "report-runs" }, h("thead", {}, h("tr", {}, [t("reports.name"), t("reports.range"), t("reports.made"), t("reports.status"), t("common.actions")].map((x) => h("th", {}, x)))), runsBody),
      runsEmpty,
    ),
  );
  void events.reportProgress((p) => {
    progress.hidden = false;
    bar.max = Math.max(1, p.total);
    bar.value = p.done;
    progressText.textContent = t("reports.progress", { name: p.template, done: String(p.done), total: String(p.total), what: p.what });
  });

  let closeEditor: (() => void) | null = null;
  function openEditor(orig: SavedTemplate | null): void {
    closeEditor?.();
    const fe = new FieldErrors();
    const fld = (key: string, label: string, input: HTMLElement): HTMLElement => fe.add(key, h("label", { class: "field", "data-field": key }, h("span", {}, label), input), input);
    const o = orig?.template;
    const name = h("input", { testid: "report-name", value: o?.name ?? "", autocomplete: "off" });
    const title = h("input", { testid: "report-title", value: o?.title ?? "", size: 32 });
    const range = h("select", { testid: "report-range" }, RANGES.map((r) => option(r, tDyn(`reports.range.${r}`, r), (o?.range.kind ?? "previous_day") === r)));
    const zone = h("input", { testid: "report-zone", value: o?.time_zone ?? getTimeZone() });
    const lang = h("select", { testid: "report-language" }, option("en", "English", o?.language !== "ja"), option("ja", "日本語", o?.language === "ja"));
    const paper = h("select", { testid: "report-paper" }, option("a4", "A4", o?.paper !== "letter"), option("letter", "Letter", o?.paper === "letter"));
    const alarms = h("input", { type: "checkbox", testid: "report-alarms", checked: o?.include_alarms ?? true });
    const s = orig?.schedule ?? null;
    const every = h("select", { testid: "report-every" }, option("", t("reports.noSchedule"), !s), option("daily", t("reports.every.daily"), s?.every === "daily"), option("weekly", t("reports.every.weekly"), s?.every === "weekly"), option("monthly", t("reports.every.monthly"), s?.every === "monthly"));
    const at = h("input", { testid: "report-at", class: "narrow", value: s?.at ?? "06:00", placeholder: "HH:MM" });
    const weekday = h("select", { testid: "report-weekday" }, WEEKDAYS.map((d) => option(d, tDyn(`weekday.${d}`, d), s?.every === "weekly" && s.weekday === d)));
    const day = h("input", { testid: "report-day", class: "narrow", type: "number", min: 1, max: 31, value: s?.every === "monthly" ? String(s.day) : "1" });
    const syncEvery = (): void => {
      at.disabled = !every.value;
      weekday.hidden = every.value !== "weekly";
      day.hidden = every.value !== "monthly";
    };
    every.addEventListener("change", syncEvery);
    syncEvery();
    const chans = checkGroup("report-channels", paths.map((p) => ({ value: p, label: p })), o?.channels ?? []);
    const dests = checkGroup("report-destinations", destIds.map((d) => ({ value: d, label: d })), orig?.destinations ?? []);
    const save = h("button", { class: "primary", type: "submit", testid: "report-save" }, t("common.save"));
    const cancel = h("button", { type: "button", testid: "report-cancel" }, t("common.cancel"));

    function build(): SavedTemplate {
      const base = structuredClone(o ?? { groups: [], stats: { thresholds: {} }, logo: null }) as SavedTemplate["template"];
      const kind = range.value as (typeof RANGES)[number];
      const template: SavedTemplate["template"] = {
        ...base,
        name: name.value.trim(),
        title: title.value.trim(),
        channels: chans.values(),
        range: { kind },
        time_zone: zone.value.trim(),
        language: lang.value as SavedTemplate["template"]["language"],
        paper: paper.value as SavedTemplate["template"]["paper"],
        include_alarms: alarms.checked,
      };
      template.groups = (template.groups ?? []).filter((g) => g.channels.every((c) => template.channels.includes(c)));
      let schedule: ReportSchedule | null = null;
      if (every.value === "daily") schedule = { every: "daily", at: at.value.trim() };
      if (every.value === "weekly") schedule = { every: "weekly", weekday: weekday.value, at: at.value.trim() };
      if (every.value === "monthly") schedule = { every: "monthly", day: Number(day.value), at: at.value.trim() };
      return { template, schedule, destinations: dests.values() };
    }

    const form = h(
      "form",
      { class: "panel editor report-form", testid: "report-form", novalidate: true },
      h("h3", {}, orig ? t("reports.formEdit", { name: orig.template.name }) : t("reports.formAdd")),
      h("div", { class: "form-grid" }, fld("template.name", t("reports.name"), name), fld("template.title", t("reports.reportTitle"), title), fld("template.range", t("reports.range"), range), fld("template.time_zone", t("reports.zone"), zone), fld("template.language", t("reports.language"), lang), fld("template.paper", t("reports.paper"), paper), h("label", { class: "check" }, alarms, t("reports.includeAlarms"))),
      fe.add("template", h("div", { class: "field", "data-field": "template" }, h("span", {}, t("reports.channels")), chans.el), chans.el),
      h("div", { class: "form-grid" }, fld("schedule", t("reports.schedule"), every), fld("schedule.at", t("reports.at"), at), fld("schedule.weekday", t("reports.weekday"), weekday), fld("schedule.day", t("reports.day"), day)),
      fe.add("destinations", h("div", { class: "field", "data-field": "destinations" }, h("span", {}, t("reports.destinations")), destIds.length ? dests.el : h("span", { class: "muted" }, t("reports.noDestinations"))), dests.el),
      fe.general,
      h("div", { class: "row" }, save, cancel),
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      save.disabled = true;
      try {
        await api.reportTemplateSave(build(), orig?.template.name ?? null);
        close();
        await load();
      } catch (e) {
        fe.show(fieldError(e));
      } finally {
        save.disabled = false;
      }
    });
    const close = (): void => {
      clear(formHost);
      closeEditor = null;
    };
    closeEditor = close;
    cancel.addEventListener("click", close);
    formHost.append(form);
    name.focus();
  }

  function render(): void {
    clear(body);
    empty.hidden = templates.length > 0;
    for (const s of templates) {
      const rowErr = h("div", { class: "row-msg error", hidden: true, role: "alert" });
      const gen = h("button", { class: "small primary", testid: "report-generate" }, t("reports.generateNow"));
      gen.addEventListener("click", async () => {
        gen.disabled = true;
        showError(rowErr, null);
        progress.hidden = false;
        bar.value = 0;
        progressText.textContent = t("reports.starting", { name: s.template.name });
        try {
          const run = await api.reportGenerate(s.template.name);
          progressText.textContent = t("reports.done", { name: s.template.name, file: run.pdf ?? "" });
          bar.value = bar.max;
          await loadRuns();
        } catch (e) {
          progress.hidden = true;
          showError(rowErr, errorText(e));
          await loadRuns();
        } finally {
          gen.disabled = false;
        }
      });
      const edit = h("button", { class: "small", testid: "report-edit" }, t("common.edit"));
      edit.addEventListener("click", () => openEditor(s));
      const del = h("button", { class: "small danger", testid: "report-delete" }, t("common.delete"));
      del.addEventListener("click", async () => {
        del.disabled = true;
        try {
          await api.reportTemplateDelete(s.template.name);
          await load();
        } catch (e) {
          del.disabled = false;
          showError(rowErr, errorText(e));
        }
      });
      body.append(
        h(
          "tr",
          { testid: "report-row", "data-name": s.template.name },
          h("td", {}, h("b", {}, s.template.name)),
          h("td", {}, s.template.title),
          h("td", {}, rangeText(s.template.range), h("div", { class: "muted small-text" }, s.template.time_zone)),
          h("td", {}, scheduleText(s.schedule)),
          h("td", {}, s.destinations.join(", ") || h("span", { class: "muted" }, t("common.none"))),
          h("td", { class: "actions" }, h("div", { class: "btns" }, gen, edit, del), rowErr),
        ),
      );
    }
  }

  function renderRuns(): void {
    clear(runsBody);
    runsEmpty.hidden = runs.length > 0;
    for (const r of runs) {
      const rowErr = h("div", { class: "row-msg error", hidden: true, role: "alert" });
      const open = h("button", { class: "small", testid: "run-open", disabled: !r.pdf }, t("reports.open"));
      open.addEventListener("click", () => api.reportOpen(r.id).catch((e) => showError(rowErr, errorText(e))));
      const path = h("input", { class: "path", testid: "run-save-path", placeholder: "/home/me/report.pdf", hidden: true });
      const saveAs = h("button", { class: "small", testid: "run-save-as", disabled: !r.pdf }, t("reports.saveAs"));
      saveAs.addEventListener("click", async () => {
        if (path.hidden) {
          path.hidden = false;
          path.focus();
          return;
        }
        try {
          const written = await api.reportSaveAs(r.id, path.value);
          showError(rowErr, null);
          saveAs.title = written;
          path.hidden = true;
        } catch (e) {
          showError(rowErr, errorText(e));
        }
      });
      const status = r.status === "failed" ? h("span", { class: "error-text", title: r.error ?? "" }, t("reports.failed"), ": ", r.error ?? "") : tDyn(`reports.status.${r.status}`, r.status);
      const sent = r.deliveries.map((d) => `${d.destination}${d.ok ? " ✓" : ` ✗ ${d.error ?? ""}`}`).join(", ");
      runsBody.append(
        h(
          "tr",
          { testid: "run-row", "data-status": r.status, "data-template": r.template },
          h("td", {}, r.template),
          h("td", {}, `${formatDateTime(r.from)} – ${formatDateTime(r.to)}`),
          h("td", {}, formatDateTime(r.started), h("div", { class: "muted small-text" }, r.due === null ? t("reports.byHand") : t("reports.scheduled"))),
          h("td", {}, status, sent ? h("div", { class: "muted small-text" }, sent) : null),
          h("td", { class: "actions" }, h("div", { class: "btns" }, open, saveAs, path), rowErr),
        ),
      );
    }
  }

  function loadRuns(): Promise<void> {
    return loadList(runsErr, () => api.reportRuns(), (list) => {
      runs = list;
      renderRuns();
    });
  }

  function load(): Promise<void> {
    return loadList(listErr, () => api.reportTemplates(), (list) => {
      templates = list;
      render();
    });
  }

  return {
    root,
    show() {
      void loadChannelPaths()
        .then((p) => {
          paths = p;
        })
        .catch((e) => showError(listErr, errorText(e)));
      void api
        .destinationsList()
        .then((d) => {
          destIds = d.map((x) => x.id);
        })
        .catch(() => undefined);
      void load();
      void loadRuns();
    },
  };
}
