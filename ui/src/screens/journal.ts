import { api, errorText, type JournalAction, type JournalEntry } from "../api";
import { clear, h, option, showError } from "../dom";
import { t, tDyn } from "../i18n";
import { app, type Screen } from "../state";
import { formatDateTime, getTimeZone, parseZoned } from "../time";
import { severityPill } from "./alarms";

export const ACTIONS: JournalAction[] = [
  "raise",
  "return",
  "ack",
  "shelve",
  "unshelve",
  "out_of_service",
  "in_service",
  "reminder",
  "notify_ok",
  "notify_failed",
  "notify_retry",
];
const LIMIT = 1000;

/** A state word from the journal, translated when known. */
export function stateText(s: string | null | undefined): string {
  if (!s) return "";
  return tDyn(`jstate.${s.toLowerCase().replace(/-/g, "_")}`, s);
}

export function journalScreen(): Screen {
  // Plain text in the app's own format (datetime-local follows the OS locale, not the settings' zone).
  const from = h("input", { testid: "journal-from", class: "when", placeholder: "YYYY-MM-DD HH:MM", autocomplete: "off" });
  const to = h("input", { testid: "journal-to", class: "when", placeholder: "YYYY-MM-DD HH:MM", autocomplete: "off" });
  const ranges = h("div", { class: "seg" });
  for (const [key, ms] of [["24h", 86_400_000], ["7d", 7 * 86_400_000], ["all", 0]] as const) {
    const b = h("button", { testid: `journal-range-${key}` }, t(`journal.range.${key}`));
    b.addEventListener("click", () => {
      from.value = ms ? formatDateTime(Date.now() - ms).slice(0, 16) : "";
      to.value = "";
      void load();
    });
    ranges.append(b);
  }
  const alarm = h("input", { testid: "journal-alarm", placeholder: t("journal.allAlarms"), list: "journal-alarm-ids", size: 16, autocomplete: "off" });
  const alarmIds = h("datalist", { id: "journal-alarm-ids" });
  const action = h("select", { testid: "journal-action" }, option("", t("journal.allActions")), ...ACTIONS.map((a) => option(a, tDyn(`journal.action.${a}`, a))));
  const refresh = h("button", { testid: "journal-refresh" }, t("common.refresh"));
  const clearBtn = h("button", { testid: "journal-clear" }, t("journal.clearFilters"));
  const zoneNote = h("span", { class: "muted small-text" });
  const err = h("div", { class: "error", hidden: true, testid: "journal-error" });
  const note = h("div", { class: "muted small-text", hidden: true });
  const body = h("tbody");
  const empty = h("div", { class: "empty", hidden: true }, t("journal.empty"));
  let visible = false;
  let pending = false;

  function fillAlarmIds(): void {
    clear(alarmIds);
    for (const id of new Set(app.alarms.map((a) => a.alarm_id))) alarmIds.append(h("option", { value: id }));
  }

  async function load(): Promise<void> {
    zoneNote.textContent = t("journal.zone", { tz: getTimeZone() });
    const f = from.value.trim() ? parseZoned(from.value) : null;
    const tt = to.value.trim() ? parseZoned(to.value) : null;
    // a time the UI cannot read is not silently dropped from the query
    const bad = from.value.trim() && f === null ? from.value : to.value.trim() && tt === null ? to.value : null;
    for (const [el, v] of [[from, f], [to, tt]] as const) el.toggleAttribute("aria-invalid", Boolean(el.value.trim()) && v === null);
    if (bad !== null) {
      showError(err, t("journal.badTime", { text: bad.trim() }));
      return;
    }
    try {
      const list: JournalEntry[] = await api.journalQuery({
        from: f,
        to: tt,
        alarmId: alarm.value.trim() || null,
        action: (action.value || null) as JournalAction | null,
        limit: LIMIT,
      });
      showError(err, null);
      clear(body);
      for (const e of list) {
        body.append(
          h(
            "tr",
            { testid: "journal-row", "data-action": e.action, "data-alarm-id": e.alarm_id, class: `j-${e.action}` },
            h("td", { class: "tabnum nowrap" }, formatDateTime(e.t)),
            h("td", {}, severityPill(e.severity)),
            h("td", {}, h("div", {}, e.name || e.rule_id), h("code", { class: "muted small-text" }, e.alarm_id)),
            h("td", {}, h("span", { class: `jaction ja-${e.action}` }, tDyn(`journal.action.${e.action}`, e.action))),
            h("td", { class: "nowrap small-text" }, e.from_state && e.from_state !== e.to_state ? `${stateText(e.from_state)} → ` : "", stateText(e.to_state)),
            h("td", {}, e.user ?? ""),
            h("td", { class: "msg" }, e.comment ?? ""),
            h("td", { class: "mono small-text msg" }, e.values ?? ""),
          ),
        );
      }
      empty.hidden = list.length > 0;
      note.textContent = t("journal.limited", { n: LIMIT });
      note.hidden = list.length < LIMIT;
    } catch (e) {
      showError(err, errorText(e));
    }
  }

  for (const el of [from, to, alarm, action]) el.addEventListener("change", () => void load());
  for (const el of [from, to, alarm])
    el.addEventListener("keydown", (e) => {
      if (e.key === "Enter") void load();
    });
  refresh.addEventListener("click", () => void load());
  clearBtn.addEventListener("click", () => {
    from.value = to.value = alarm.value = action.value = "";
    void load();
  });

  const root = h(
    "section",
    { class: "screen", testid: "screen-journal" },
    h("div", { class: "toolbar" }, h("h2", {}, t("journal.title")), zoneNote),
    h(
      "div",
      { class: "toolbar" },
      ranges,
      h("label", { class: "field inline" }, h("span", {}, t("journal.from")), from),
      h("label", { class: "field inline" }, h("span", {}, t("journal.to")), to),
      h("label", { class: "field inline" }, h("span", {}, t("journal.alarm")), alarm, alarmIds),
      h("label", { class: "field inline" }, h("span", {}, t("journal.action")), action),
      refresh,
      clearBtn,
    ),
    err,
    note,
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        { class: "grid journal-table" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", {}, t("journal.time")),
            h("th", {}, t("alarms.severity")),
            h("th", {}, t("journal.alarm")),
            h("th", {}, t("journal.action")),
            h("th", {}, t("journal.state")),
            h("th", {}, t("journal.user")),
            h("th", {}, t("journal.comment")),
            h("th", {}, t("journal.values")),
          ),
        ),
        body,
      ),
      empty,
    ),
  );

  // New journal lines come with alarm changes; reload (coalesced) while shown.
  app.alarmListeners.add(() => {
    if (!visible || pending) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      if (visible) void load();
    }, 400);
  });

  return {
    root,
    show() {
      visible = true;
      fillAlarmIds();
      void load();
    },
    hide() {
      visible = false;
    },
  };
}
