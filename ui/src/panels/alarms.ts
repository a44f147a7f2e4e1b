// An alarm list: the active and unacknowledged alarms of chosen rules or
// channels (none chosen: all), most urgent first, each with its ack.
import { clear, h } from "../dom";
import { t, tDyn } from "../i18n";
import { formatDateTime } from "../time";
import { alarmsFor, type PanelAlarm } from "./source";

export interface AlarmListView {
  el: HTMLElement;
  set(all: PanelAlarm[]): void;
}

export function alarmListView(rules: string[], channels: string[], ack: (id: string, user: string) => Promise<void>, lastUser: () => string): AlarmListView {
  const list = h("ul", { class: "panel-alarms", testid: "panel-alarms" });
  const empty = h("div", { class: "panel-empty muted" }, t("dash.noAlarms"));
  const err = h("div", { class: "error small", hidden: true });
  const el = h("div", { class: "alarm-list-wrap" }, err, empty, list);
  return {
    el,
    set(all) {
      const shown = alarmsFor(all, rules, channels);
      clear(list);
      empty.hidden = shown.length > 0;
      for (const a of shown) {
        const btn = h("button", { class: "small", testid: "panel-ack", disabled: a.acked }, a.acked ? t("dash.acked") : t("dash.ack"));
        const user = h("input", { class: "small", testid: "panel-ack-user", placeholder: t("alarms.user"), size: 10, value: lastUser(), hidden: true });
        const confirm = h("form", { class: "ack-inline" }, user);
        btn.addEventListener("click", () => {
          if (user.hidden) {
            user.hidden = false;
            user.focus();
            return;
          }
          confirm.requestSubmit();
        });
        confirm.addEventListener("submit", async (ev) => {
          ev.preventDefault();
          btn.disabled = true;
          try {
            await ack(a.id, user.value);
            err.hidden = true;
          } catch (e) {
            err.textContent = String(e);
            err.hidden = false;
            btn.disabled = false;
          }
        });
        list.append(
          h(
            "li",
            { class: `panel-alarm${a.active ? " active" : ""}${a.acked ? "" : " unacked"}`, "data-alarm": a.id, "data-severity": a.severity },
            h("span", { class: `sev sev-${a.severity}`, "data-severity": a.severity }, tDyn(`sev.${a.severity}`, a.severity)),
            h("span", { class: "pa-main" }, h("b", {}, a.name), h("span", { class: "muted small" }, `${formatDateTime(a.since)}${a.value ? ` · ${a.value}` : ""}`)),
            confirm,
            btn,
          ),
        );
      }
    },
  };
}
