// A site's alarms as the cloud knows them (issue 16), shared by the
// desktop's Cloud screen and the portal's Alarms page: the standing alarms
// (state, severity, since, who acknowledged them, when, with what comment)
// and, for members and admins, an acknowledgement that goes to the agent
// through the cloud. The summary is the cloud's; this only draws it.
import type { SiteAlarm, SiteAlarms } from "./bindings";
import { errorText } from "./api";
import { clear, h, showError } from "./dom";
import { t, tDyn } from "./i18n";
import { formatDateTime } from "./time";

export type { SiteAlarm, SiteAlarms } from "./bindings";

export interface SiteAlarmsOptions {
  /** Acknowledge through the cloud; left out: no acknowledge button (viewers). */
  ack?: (alarm: string, comment: string) => Promise<SiteAlarms>;
  /** Only standing alarms (active or waiting for an acknowledgement). */
  standingOnly?: boolean;
}

/** The cloud's own alarms (`cloud-<id>`) carry their kind as the name: worded here. */
export function alarmName(a: SiteAlarm): string {
  if (a.alarm_id.startsWith("cloud-")) return tDyn(`sitealarms.cloud.${a.name}`, a.name);
  return a.name || a.alarm_id;
}

/** "alice · 2026-12-07 10:00 · seen" for an acknowledgement. */
export function ackText(a: SiteAlarm): string {
  if (!a.ack) return "";
  return [a.ack.user ?? "", formatDateTime(a.ack.t), a.ack.comment ?? ""].filter((x) => x).join(" · ");
}

/** Draws `s` into `box`; an acknowledgement redraws it with the answer. */
export function paintSiteAlarms(box: HTMLElement, s: SiteAlarms, opts: SiteAlarmsOptions = {}): void {
  clear(box);
  const err = h("div", { class: "error", testid: "site-alarms-error", hidden: true });
  const list = opts.standingOnly ? s.site.filter((a) => a.active || a.unacked) : s.site;
  const offline = s.offline ? h("div", { class: "warn", testid: "site-offline" }, t("sitealarms.offline")) : null;
  if (!list.length) {
    box.append(h("div", { testid: "site-alarms", "data-agent": s.agent }, offline, h("div", { class: "empty", testid: "site-alarms-empty" }, t("sitealarms.none"))));
    return;
  }
  const rows = list.map((a) => {
    const actions = h("td", {});
    if (opts.ack && a.unacked && (!a.pending_ack || a.pending_ack.expired_ms)) {
      const comment = h("input", { testid: "site-alarm-comment", placeholder: t("alarms.comment"), size: 18 });
      const btn = h("button", { class: "small", testid: "site-alarm-ack" }, t("alarms.ack"));
      btn.addEventListener("click", () => {
        btn.disabled = true;
        showError(err, null);
        opts.ack!(a.alarm_id, comment.value).then(
          (next) => paintSiteAlarms(box, next, opts),
          (e: unknown) => {
            btn.disabled = false;
            showError(err, errorText(e));
          },
        );
      });
      actions.append(comment, btn);
    }
    const pending = a.pending_ack
      ? a.pending_ack.expired_ms
        ? h("div", { class: "warn", testid: "site-alarm-ack-expired" }, t("sitealarms.ackExpired", { user: a.pending_ack.user }))
        : h("div", { class: "muted", testid: "site-alarm-pending" }, t("sitealarms.pending", { user: a.pending_ack.user }))
      : null;
    return h(
      "tr",
      { testid: "site-alarm", "data-alarm": a.alarm_id, "data-cloud": String(a.alarm_id.startsWith("cloud-")), "data-state": a.state, "data-unacked": String(a.unacked) },
      h("td", {}, h("span", { class: `sev sev-${a.severity}` }, tDyn(`sev.${a.severity}`, a.severity))),
      h("td", {}, alarmName(a)),
      h("td", { testid: "site-alarm-state" }, a.state),
      h("td", { class: "tabnum nowrap" }, a.since_ms === null ? "" : formatDateTime(a.since_ms)),
      h("td", { testid: "site-alarm-acked" }, ackText(a), pending),
      actions,
    );
  });
  box.append(
    h(
      "div",
      { testid: "site-alarms", "data-agent": s.agent },
      offline,
      h(
        "table",
        { class: "grid" },
        h("thead", {}, h("tr", {}, ...["alarms.severity", "alarms.alarm", "alarms.state", "alarms.since", "alarms.acked", "alarms.actions"].map((k) => h("th", {}, t(k))))),
        h("tbody", {}, ...rows),
      ),
      err,
    ),
  );
}
