import { api, errorText, type LiveEvent } from "../api";
import { clear, h, option, showError } from "../dom";
import { t, tDyn, tText } from "../i18n";
import { app, type Screen } from "../state";
import { formatDateTime } from "../time";

const KINDS = ["connected", "disconnected", "error", "agent-started", "agent-stopped", "retention", "overrun", "file", "control"];

export function eventsScreen(): Screen {
  const instSel = h("select", { testid: "event-filter-instrument" });
  const kindSel = h(
    "select",
    { testid: "event-filter-kind" },
    option("", t("events.allKinds")),
    ...KINDS.map((k) => option(k, tDyn(`events.kind.${k}`, k))),
  );
  const refreshBtn = h("button", {}, t("common.refresh"));
  const err = h("div", { class: "error", hidden: true });
  const body = h("tbody");
  const empty = h("div", { class: "empty", hidden: true }, t("events.empty"));
  let visible = false;

  let lastIds = "";
  function fillInstruments(): void {
    const ids = app.instruments.map((v) => `${v.config.id}\u0000${v.config.name ?? ""}`).join("\u0001");
    if (ids === lastIds && instSel.options.length) return;
    lastIds = ids;
    const cur = instSel.value;
    clear(instSel);
    instSel.append(option("", t("events.allInstruments")));
    for (const v of app.instruments) instSel.append(option(v.config.id, v.config.id, v.config.id === cur));
  }

  async function load(): Promise<void> {
    try {
      const list = await api.events(instSel.value || null, kindSel.value || null, 500);
      showError(err, null);
      clear(body);
      for (const e of list) {
        body.append(
          h(
            "tr",
            { testid: "event-row", "data-kind": e.kind, class: `ev-${e.kind}` },
            h("td", { class: "tabnum nowrap" }, formatDateTime(e.t)),
            h("td", {}, e.instrument ?? h("span", { class: "muted" }, t("events.agent"))),
            h("td", {}, h("span", { class: `kind kind-${e.kind}` }, tDyn(`events.kind.${e.kind}`, e.kind))),
            h(
              "td",
              { class: "msg" },
              e.text ? tText(e.text) : e.message,
              (e.count ?? 1) > 1
                ? h("span", { class: "muted repeat", testid: "event-count" }, " " + t("events.repeated", { n: e.count ?? 1, since: formatDateTime(e.first_t ?? e.t) }))
                : "",
            ),
          ),
        );
      }
      empty.hidden = list.length > 0;
    } catch (e) {
      showError(err, errorText(e));
    }
  }

  instSel.addEventListener("change", () => void load());
  kindSel.addEventListener("change", () => void load());
  refreshBtn.addEventListener("click", () => void load());
  app.listeners.add(fillInstruments);
  fillInstruments();

  const root = h(
    "section",
    { class: "screen", testid: "screen-events" },
    h("div", { class: "toolbar" }, h("h2", {}, t("events.title")), h("span", { class: "spacer" }), instSel, kindSel, refreshBtn),
    err,
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        { class: "grid" },
        h("thead", {}, h("tr", {}, h("th", {}, t("events.time")), h("th", {}, t("events.instrument")), h("th", {}, t("events.kind")), h("th", {}, t("events.message")))),
        body,
      ),
      empty,
    ),
  );
  let pending = false;
  return {
    root,
    show() {
      visible = true;
      fillInstruments();
      void load();
    },
    hide() {
      visible = false;
    },
    onLive(e: LiveEvent) {
      if (e.type === "event" && visible && !pending) {
        pending = true;
        setTimeout(() => {
          pending = false;
          void load();
        }, 300);
      }
    },
  };
}
