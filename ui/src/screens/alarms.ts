import { api, errorText, type AlarmView } from "../api";
import { alarmBadges, countUnacked, SHELVE_CHOICES, shelveMinutes, type ShelveChoice } from "../alarmfmt";
import { h, option, showError } from "../dom";
import { t, tDyn } from "../i18n";
import { alarmsChanged, app, type Screen } from "../state";
import { formatDateTime } from "../time";

const USER_KEY = "meterdeck.alarmUser";

/** The OS user name is not known to the UI: remember the last name typed. */
export function rememberedUser(): string {
  try {
    return localStorage.getItem(USER_KEY) ?? "";
  } catch {
    return "";
  }
}

export function rememberUser(user: string): void {
  try {
    if (user.trim()) localStorage.setItem(USER_KEY, user.trim());
  } catch {
    /* storage unavailable: nothing to remember */
  }
}

export function severityPill(sev: string | null | undefined): HTMLSpanElement {
  const s = sev ?? "";
  return h("span", { class: `sev sev-${s}`, "data-severity": s }, tDyn(`sev.${s}`, s || "—"));
}

type Mode = "ack" | "shelve" | "unshelve" | "oos";

export function alarmsScreen(): Screen {
  const err = h("div", { class: "error", hidden: true });
  const counts = h("span", { class: "alarm-counts muted", testid: "alarm-counts" });
  const refresh = h("button", {}, t("common.refresh"));
  const body = h("tbody");
  const empty = h("div", { class: "empty", hidden: true, testid: "alarms-empty" }, t("alarms.empty"));

  // Per alarm: its row and the action form open under it (if any).
  const rows = new Map<string, HTMLTableRowElement>();
  const forms = new Map<string, { mode: Mode; tr: HTMLTableRowElement }>();

  async function load(): Promise<void> {
    try {
      alarmsChanged(await api.alarmsList());
      showError(err, null);
    } catch (e) {
      showError(err, errorText(e));
    }
  }
  refresh.addEventListener("click", () => void load());

  function buildRow(a: AlarmView): HTMLTableRowElement {
    const badges = h(
      "div",
      { class: "badges" },
      alarmBadges(a).map((b) =>
        h(
          "span",
          { class: `st st-${b}`, testid: `alarm-state-${b}` },
          b === "shelved" && a.shelved_until !== null ? t("alarms.st.shelvedUntil", { t: formatDateTime(a.shelved_until) }) : t(`alarms.st.${b}` as "alarms.st.active"),
        ),
      ),
    );
    const btn = (mode: Mode, label: string, testid: string, cls = "small"): HTMLButtonElement => {
      const b = h("button", { class: cls, testid, "aria-expanded": forms.get(a.alarm_id)?.mode === mode ? "true" : "false" }, label);
      b.addEventListener("click", () => toggleForm(a, mode));
      return b;
    };
    const shelved = a.shelved_until !== null && a.shelved_until !== undefined;
    const actions = h(
      "div",
      { class: "btns" },
      a.acked ? null : btn("ack", t("alarms.ack"), "alarm-ack", "small primary"),
      shelved ? btn("unshelve", t("alarms.unshelve"), "alarm-unshelve") : btn("shelve", t("alarms.shelve"), "alarm-shelve"),
      btn("oos", a.out_of_service ? t("alarms.inService") : t("alarms.outOfService"), "alarm-oos"),
    );
    const ack = a.ack
      ? h(
          "div",
          { class: "ack-info" },
          h("b", {}, a.ack.user),
          a.ack.comment ? h("span", {}, ` — ${a.ack.comment}`) : null,
          h("div", { class: "muted small-text nowrap" }, formatDateTime(a.ack.t)),
        )
      : h("span", { class: "muted" }, t("common.none"));
    return h(
      "tr",
      {
        testid: "alarm-row",
        "data-alarm-id": a.alarm_id,
        "data-severity": a.severity,
        class: `alarm-row sev-row-${a.severity}${a.acked ? "" : " unacked"}${a.active ? " active" : ""}${a.out_of_service ? " oos" : ""}`,
      },
      h("td", { class: "sev-cell" }, severityPill(a.severity)),
      h("td", {}, badges),
      h(
        "td",
        { class: "alarm-name" },
        h("div", { class: "name" }, a.name || a.rule_id),
        h("div", { class: "muted small-text" }, h("code", {}, a.alarm_id), " · ", tDyn(`rules.kind.${a.kind}`, a.kind)),
        a.message ? h("div", { class: "alarm-msg" }, a.message) : null,
      ),
      h("td", { class: "mono value-cell" }, a.value ?? h("span", { class: "muted" }, t("common.none"))),
      h(
        "td",
        { class: "tabnum nowrap" },
        a.since > 0 ? formatDateTime(a.since) : h("span", { class: "muted" }, t("common.none")),
        a.raised_at !== null && Math.abs(a.raised_at - a.since) >= 1000 ? h("div", { class: "muted small-text" }, t("alarms.raisedAt", { t: formatDateTime(a.raised_at) })) : null,
      ),
      h("td", {}, ack),
      h("td", { class: "actions" }, actions),
    );
  }

  function render(): void {
    const list = app.alarms;
    empty.hidden = list.length > 0;
    const nUn = countUnacked(list);
    const nAct = list.filter((a) => a.active).length;
    counts.textContent = t("alarms.counts", { unacked: nUn, active: nAct });
    const seen = new Set<string>();
    let prev: ChildNode | null = null;
    const place = (el: HTMLElement): void => {
      const expected: ChildNode | null = prev ? prev.nextSibling : body.firstChild;
      if (expected !== el) body.insertBefore(el, expected);
      prev = el;
    };
    for (const a of list) {
      const fresh = buildRow(a);
      const old = rows.get(a.alarm_id);
      if (old) old.replaceWith(fresh);
      rows.set(a.alarm_id, fresh);
      place(fresh);
      const f = forms.get(a.alarm_id);
      if (f) {
        // a form whose action no longer applies (acked elsewhere, unshelved...) closes
        const gone = (f.mode === "ack" && a.acked) || (f.mode === "unshelve" && a.shelved_until === null) || (f.mode === "shelve" && a.shelved_until !== null);
        if (gone) {
          f.tr.remove();
          forms.delete(a.alarm_id);
        } else place(f.tr);
      }
      seen.add(a.alarm_id);
    }
    for (const [id, tr] of rows) {
      if (seen.has(id)) continue;
      tr.remove();
      rows.delete(id);
      forms.get(id)?.tr.remove();
      forms.delete(id);
    }
  }

  function toggleForm(a: AlarmView, mode: Mode): void {
    const open = forms.get(a.alarm_id);
    open?.tr.remove();
    forms.delete(a.alarm_id);
    if (open?.mode !== mode) {
      const tr = buildForm(a, mode);
      forms.set(a.alarm_id, { mode, tr });
    }
    render();
    const f = forms.get(a.alarm_id);
    if (f) {
      const first = f.tr.querySelector<HTMLInputElement>("input[data-autofocus]") ?? f.tr.querySelector<HTMLInputElement>("input");
      first?.focus();
    }
  }

  function buildForm(a: AlarmView, mode: Mode): HTMLTableRowElement {
    const p = mode; // testid prefix: ack-user, shelve-user, unshelve-user, oos-user
    const remembered = rememberedUser();
    const user = h("input", { testid: `${p}-user`, value: remembered, size: 14, autocomplete: "off", "data-autofocus": remembered ? null : true });
    const comment = h("input", { testid: `${p}-comment`, size: 32, "data-autofocus": remembered ? true : null });
    const duration = h(
      "select",
      { testid: "shelve-duration" },
      ...(Object.keys(SHELVE_CHOICES) as ShelveChoice[]).map((k) => option(k, t(`alarms.shelve.${k}` as "alarms.shelve.15m"), k === "1h")),
      option("custom", t("alarms.shelve.custom")),
    );
    const custom = h("input", { testid: "shelve-minutes", class: "narrow", inputmode: "numeric", placeholder: t("alarms.minutes"), hidden: true });
    duration.addEventListener("change", () => {
      custom.hidden = duration.value !== "custom";
      if (!custom.hidden) custom.focus();
    });
    const submitLabel = { ack: t("alarms.ack"), shelve: t("alarms.shelve"), unshelve: t("alarms.unshelve"), oos: a.out_of_service ? t("alarms.inService") : t("alarms.outOfService") }[mode];
    const submit = h("button", { class: "primary", type: "submit", testid: `${p}-submit` }, submitLabel);
    const cancel = h("button", { type: "button", testid: `${p}-cancel` }, t("common.cancel"));
    const formErr = h("div", { class: "error", testid: "alarm-error", hidden: true, role: "alert" });
    const title = { ack: t("alarms.form.ack"), shelve: t("alarms.form.shelve"), unshelve: t("alarms.form.unshelve"), oos: a.out_of_service ? t("alarms.form.inService") : t("alarms.form.oos") }[mode];

    const form = h(
      "form",
      { class: "alarm-form", testid: `${p}-form`, novalidate: true },
      h("span", { class: "form-title" }, title, " ", h("b", {}, a.name || a.alarm_id)),
      h("label", { class: "field inline" }, h("span", {}, t("alarms.user")), user),
      mode === "unshelve" ? null : h("label", { class: "field inline" }, h("span", {}, t("alarms.comment")), comment),
      mode === "shelve" ? h("label", { class: "field inline" }, h("span", {}, t("alarms.duration")), duration, custom) : null,
      submit,
      cancel,
      formErr,
    );
    const close = (): void => {
      forms.get(a.alarm_id)?.tr.remove();
      forms.delete(a.alarm_id);
      render();
    };
    cancel.addEventListener("click", close);
    form.addEventListener("keydown", (e) => {
      if (e.key === "Escape") close();
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      showError(formErr, null);
      submit.disabled = true;
      rememberUser(user.value);
      try {
        if (mode === "ack") await api.alarmAck(a.alarm_id, user.value, comment.value);
        else if (mode === "shelve") await api.alarmShelve(a.alarm_id, shelveMinutes(duration.value as ShelveChoice, custom.value), user.value, comment.value);
        else if (mode === "unshelve") await api.alarmUnshelve(a.alarm_id, user.value);
        else await api.alarmOutOfService(a.alarm_id, !a.out_of_service, user.value, comment.value);
        forms.get(a.alarm_id)?.tr.remove();
        forms.delete(a.alarm_id);
        await load();
      } catch (e) {
        // the backend's message, next to the row it concerns
        showError(formErr, errorText(e));
      } finally {
        submit.disabled = false;
      }
    });
    return h("tr", { class: `alarm-form-row sev-row-${a.severity}`, "data-alarm-id": a.alarm_id }, h("td", { colspan: 7 }, form));
  }

  app.alarmListeners.add(() => {
    if (root.isConnected) render();
  });

  const root = h(
    "section",
    { class: "screen", testid: "screen-alarms" },
    h("div", { class: "toolbar" }, h("h2", {}, t("alarms.title")), counts, h("span", { class: "spacer" }), refresh),
    err,
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        { class: "grid alarm-table" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", {}, t("alarms.severity")),
            h("th", {}, t("alarms.state")),
            h("th", {}, t("alarms.alarm")),
            h("th", {}, t("alarms.value")),
            h("th", {}, t("alarms.since")),
            h("th", {}, t("alarms.acked")),
            h("th", {}, t("alarms.actions")),
          ),
        ),
        body,
      ),
      empty,
    ),
  );

  return {
    root,
    show() {
      render();
      void load();
    },
  };
}

/** Shows the count `n` in a badge (hidden when 0). */
export function paintCount(el: HTMLElement, n: number): void {
  el.textContent = n > 99 ? "99+" : String(n);
  el.hidden = n <= 0;
  el.dataset.count = String(n);
}
