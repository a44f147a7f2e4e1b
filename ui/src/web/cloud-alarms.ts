// The portal's view of the cloud's own alarms (issue 16): the account's
// alarms (agent offline, traffic 90 % / 100 %, storage over the plan) with
// who acknowledged them, an acknowledge button for members and admins, and
// where the cloud sends them (the destinations; webhook URLs come masked).
// The API decides everything; this only draws it.
import { errorText } from "../api";
import { clear, h, showError } from "../dom";
import { t, tDyn } from "../i18n";
import { formatDateTime } from "../time";
import { apiFetch } from "./http";

/** `GET /api/v1/account/cloud-alarms`, one alarm. */
export interface CloudAlarm {
  id: string;
  agent: string | null;
  kind: string;
  raised_ms: number;
  cleared_ms: number | null;
  sends: number;
  ack: { user: string | null; t: number; comment: string | null } | null;
}

/** `GET /api/v1/account/alarm-destinations`. */
export interface AlarmDestinations {
  remind_every_min: number;
  language: string;
  zone: string;
  destinations: { id: string; kind: string; name: string | null; admins: boolean; addresses: string[]; url_masked: string | null }[];
}

/** One destination in words: "Email: admins, ops@example.com" / "Slack: https://hooks.slack.com/…". */
export function destinationText(d: AlarmDestinations["destinations"][number]): string {
  const kind = tDyn(`cloudalarms.dest.${d.kind}`, d.kind);
  const to = d.kind === "email" ? [d.admins ? t("cloudalarms.admins") : "", ...d.addresses].filter((x) => x).join(", ") : d.url_masked ?? "";
  return `${d.name ? `${d.name} · ` : ""}${kind}: ${to}`;
}

/** Draws the account's cloud alarms into `box`; `names` maps agent ids to names. */
export function paintCloudAlarms(box: HTMLElement, list: CloudAlarm[], names: Map<string, string>, member: boolean, reload: () => void): void {
  clear(box);
  const err = h("div", { class: "error", testid: "cloud-alarms-error", hidden: true });
  if (!list.length) {
    box.append(h("div", { class: "empty", testid: "cloud-alarms-empty" }, t("cloudalarms.none")));
    return;
  }
  const rows = list.map((a) => {
    const actions = h("td", {});
    if (member && !a.ack && a.cleared_ms === null) {
      const comment = h("input", { testid: "cloud-alarm-comment", placeholder: t("alarms.comment"), size: 18 });
      const btn = h("button", { class: "small", testid: "cloud-alarm-ack" }, t("alarms.ack"));
      btn.addEventListener("click", () => {
        btn.disabled = true;
        apiFetch("POST", `/account/cloud-alarms/${encodeURIComponent(a.id)}/ack`, { comment: comment.value }).then(reload, (e: unknown) => {
          btn.disabled = false;
          showError(err, errorText(e));
        });
      });
      actions.append(comment, btn);
    }
    const state = a.cleared_ms !== null ? t("cloudalarms.cleared") : a.ack ? "ACKED" : "UNACK";
    const acked = a.ack ? [a.ack.user ?? "", formatDateTime(a.ack.t), a.ack.comment ?? ""].filter((x) => x).join(" · ") : "";
    return h(
      "tr",
      { testid: "cloud-alarm", "data-kind": a.kind, "data-acked": String(a.ack !== null) },
      h("td", {}, tDyn(`sitealarms.cloud.${a.kind}`, a.kind)),
      h("td", {}, a.agent ? names.get(a.agent) ?? a.agent : t("cloudalarms.account")),
      h("td", { testid: "cloud-alarm-state" }, state),
      h("td", { class: "tabnum nowrap" }, formatDateTime(a.raised_ms)),
      h("td", { class: "num" }, String(a.sends)),
      h("td", { testid: "cloud-alarm-acked" }, acked),
      actions,
    );
  });
  box.append(
    h(
      "table",
      { class: "grid", testid: "cloud-alarms" },
      h("thead", {}, h("tr", {}, ...["alarms.alarm", "cloudalarms.site", "alarms.state", "alarms.since", "cloudalarms.sends", "alarms.acked", "alarms.actions"].map((k) => h("th", {}, t(k))))),
      h("tbody", {}, ...rows),
    ),
    err,
  );
}

/** Draws the destinations (read-only here; admins change them through the API). */
export function paintDestinations(box: HTMLElement, d: AlarmDestinations): void {
  clear(box);
  const every = d.remind_every_min > 0 ? t("cloudalarms.remindEvery", { min: d.remind_every_min }) : t("cloudalarms.noReminders");
  box.append(
    h("div", { class: "muted", testid: "alarm-remind" }, `${every} · ${d.language} · ${d.zone}`),
    h("ul", { testid: "alarm-destinations" }, ...d.destinations.map((x) => h("li", { testid: "alarm-destination", "data-kind": x.kind }, destinationText(x)))),
  );
}
