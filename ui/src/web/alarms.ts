// The portal's Alarms page (issue 16): per site, its alarms as the cloud
// knows them (state, severity, since, acknowledged by/when/comment, with an
// acknowledgement through the cloud for members and admins), then its alarm
// journal, instrument events and the cloud's own offline/online alarms,
// oldest first, a page at a time (`GET /agents/{id}/records`).
import { api, errorText, type CloudAgent } from "../api";
import { clear, h, showError } from "../dom";
import { t, tDyn, tText, type KeyedText } from "../i18n";
import type { Screen } from "../state";
import { formatDateTime } from "../time";
import { paintSiteAlarms } from "../site-alarms";
import { currentMe } from "./backend";
import { apiFetch } from "./http";
import { paintCloudAlarms, paintDestinations, type AlarmDestinations, type CloudAlarm } from "./cloud-alarms";

/** Records per page. */
export const PAGE = 50;

/** `GET /api/v1/agents/{id}/records`. */
export interface RecordsReply {
  agent: string;
  records: { id: number; kind: string; t: number; body: Record<string, unknown> }[];
  truncated: boolean;
  next: string | null;
}

/** One record as a line: what happened, who, and the comment or message. */
export function recordText(r: RecordsReply["records"][number]): { what: string; who: string; detail: string } {
  const b = r.body;
  const s = (k: string): string => (typeof b[k] === "string" ? (b[k] as string) : "");
  if (r.kind === "journal") {
    const action = tDyn(`journal.action.${s("action")}`, s("action"));
    return { what: `${s("name") || s("alarm_id")}: ${action} (${s("from_state")} → ${s("to_state")})`, who: s("user"), detail: s("comment") || s("destination") || s("values") };
  }
  if (r.kind === "event") {
    // Agents send an event's words as key and arguments too: shown in the reader's language.
    const text = b.text as KeyedText | undefined;
    const detail = text && typeof text === "object" && typeof text.key === "string" ? tText(text) : s("message");
    return { what: [s("instrument"), tDyn(`events.kind.${s("event")}`, s("event"))].filter((x) => x).join(" · "), who: "", detail };
  }
  // The cloud's own alarms (agent_offline, agent_online, ...) by their name in the reader's language.
  return { what: tDyn(`sitealarms.cloud.${s("alarm")}`, s("alarm")), who: "", detail: s("message") };
}

export function siteAlarmsScreen(): Screen {
  const err = h("div", { class: "error", testid: "portal-alarms-error", hidden: true });
  const pick = h("select", { testid: "portal-alarms-site" });
  const alarmsBox = h("div", { class: "panel" });
  const recordsBody = h("tbody", {});
  const more = h("button", { testid: "portal-records-more", hidden: true }, t("sitealarms.more"));
  const recordsBox = h(
    "div",
    { class: "panel" },
    h(
      "table",
      { class: "grid", testid: "portal-records" },
      h("thead", {}, h("tr", {}, ...["journal.time", "sitealarms.kind", "sitealarms.what", "journal.user", "sitealarms.detail"].map((k) => h("th", {}, t(k))))),
      recordsBody,
    ),
    more,
  );
  const cloudBox = h("div", { class: "panel", testid: "portal-cloud-alarms" });
  const destBox = h("div", { class: "panel", testid: "portal-alarm-destinations" });
  const destHead = h("h3", {}, t("cloudalarms.destinations"));
  const root = h(
    "section",
    { class: "screen site-alarms", testid: "screen-alarms" },
    h("div", { class: "toolbar" }, h("h2", {}, t("sitealarms.title")), h("span", { class: "spacer" }), pick),
    err,
    h("h3", {}, t("cloudalarms.title")),
    cloudBox,
    destHead,
    destBox,
    h("h3", {}, t("sitealarms.standing")),
    alarmsBox,
    h("h3", {}, t("sitealarms.records")),
    recordsBox,
  );
  let agents: CloudAgent[] = [];
  let next: string | null = null;

  const site = (): string => pick.value;

  async function loadAlarms(): Promise<void> {
    const agent = site();
    if (!agent) return;
    const member = currentMe()?.user.role !== "viewer";
    const s = await api.cloudSiteAlarms(agent);
    paintSiteAlarms(alarmsBox, s, { ack: member ? (alarm, comment) => api.cloudAlarmAck(agent, alarm, comment) : undefined });
  }

  async function loadRecords(after: string | null): Promise<void> {
    const agent = site();
    if (!agent) return;
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (after) q.set("after", after);
    const r = await apiFetch<RecordsReply>("GET", `/agents/${encodeURIComponent(agent)}/records?${q}`);
    if (!after) clear(recordsBody);
    for (const rec of r.records) {
      const x = recordText(rec);
      recordsBody.append(
        h("tr", { testid: "portal-record", "data-kind": rec.kind }, h("td", { class: "num" }, formatDateTime(rec.t)), h("td", {}, tDyn(`sitealarms.kind.${rec.kind}`, rec.kind)), h("td", {}, x.what), h("td", {}, x.who), h("td", {}, x.detail)),
      );
    }
    if (!recordsBody.childElementCount) recordsBody.append(h("tr", {}, h("td", { colspan: 5, class: "empty" }, t("journal.empty"))));
    next = r.next;
    more.hidden = !r.truncated;
  }

  async function loadCloud(): Promise<void> {
    const member = currentMe()?.user.role !== "viewer";
    const list = await apiFetch<CloudAlarm[]>("GET", "/account/cloud-alarms");
    const names = new Map(agents.map((a) => [a.id, a.name]));
    paintCloudAlarms(cloudBox, list, names, member, () => {
      loadCloud().catch((e: unknown) => showError(err, errorText(e)));
      loadAlarms().catch((e: unknown) => showError(err, errorText(e)));
    });
    destHead.hidden = destBox.hidden = !member;
    if (member) paintDestinations(destBox, await apiFetch<AlarmDestinations>("GET", "/account/alarm-destinations"));
  }

  function loadSite(): void {
    showError(err, null);
    Promise.all([loadAlarms(), loadRecords(null)]).catch((e: unknown) => showError(err, errorText(e)));
  }

  pick.addEventListener("change", loadSite);
  more.addEventListener("click", () => void loadRecords(next).catch((e: unknown) => showError(err, errorText(e))));

  return {
    root,
    show() {
      showError(err, null);
      api.cloudAgents().then(
        (list) => {
          agents = list;
          loadCloud().catch((e: unknown) => showError(err, errorText(e)));
          const keep = site();
          clear(pick);
          for (const a of agents) pick.append(h("option", { value: a.id }, a.name));
          if (keep && agents.some((a) => a.id === keep)) pick.value = keep;
          if (!agents.length) {
            clear(alarmsBox);
            alarmsBox.append(h("div", { class: "empty" }, t("cloud.noAgents")));
            return;
          }
          loadSite();
        },
        (e: unknown) => showError(err, errorText(e)),
      );
    },
  };
}
