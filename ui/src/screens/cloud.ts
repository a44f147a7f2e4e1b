// The Cloud screen: this agent's own sync state, the sign-in to a cloud
// account (with its code and change-password steps), the account's agents
// and an agent's channels, which can be added to the Viewer's graph.
import { api, errorText, type CloudAgent, type CloudChannel, type CloudStatus, type CloudStorage, type LocalSyncView } from "../api";
import { agentTraffic, backlogText, localTraffic } from "../cloudfmt";
import { clear, h, showError } from "../dom";
import { t } from "../i18n";
import { adminTabs, tauriCloudAdmin } from "../cloud-admin";
import { planName } from "./licence";
import { paintSiteAlarms } from "../site-alarms";
import { addOverlay, hasOverlay, MAX_OVERLAY, overlay, removeOverlay } from "../overlay";
import { stateDot, type Screen } from "../state";
import { formatAge, formatDateTime } from "../time";

type LocalSync = LocalSyncView;

/** In the web portal (issue 15) the screen is the account's Agents: no
 * local agent, the sign-in is the portal's own page, and each channel has a
 * CSV export link (`csvHref`). */
export interface CloudScreenOptions {
  web?: boolean;
  csvHref?: (channel: CloudChannel) => string;
}

export function cloudScreen(opts: CloudScreenOptions = {}): Screen {
  let status: CloudStatus | null = null;
  let agents: CloudAgent[] = [];
  let openAgent: string | null = null;
  let channels: CloudChannel[] = [];
  let storage: CloudStorage | null = null;
  let storageError: string | null = null;
  let busy = false;
  /** Shown once above the agents (e.g. after a password change). */
  let notice: string | null = null;
  let ticks = 0;

  const localBox = h("div", { class: "panel cloud-local", testid: "cloud-local-sync" });
  const accountBox = h("div", { class: "panel cloud-account", testid: "cloud-account" });
  const storagePanel = h("div", { class: "panel cloud-storage", testid: "cloud-storage" });
  const storageBox = h("div", {}, h("h3", {}, t("cloud.storage")), storagePanel);
  const agentsBox = h("div", { class: "cloud-agents-box" });
  const channelsBox = h("div", { class: "cloud-channels-box" });
  // The open site's standing alarms (site-alarms.ts), above its channels.
  const alarmsBox = h("div", { class: "cloud-alarms-box", testid: "cloud-site-alarms" });
  const err = h("div", { class: "error", testid: "cloud-error", hidden: true });

  // The account's administration sections sit behind a sub-navigation
  // whose first entry is this page (cloud-admin/: shared with the portal).
  // In the portal, which mounts the sections itself, this page is all.
  const home = h(
    "div",
    { class: "cloud-home", testid: "cloud-home" },
    opts.web ? null : h("h3", {}, t("cloud.local")),
    opts.web ? null : localBox,
    opts.web ? null : h("h3", {}, t("cloud.account")),
    opts.web ? null : accountBox,
    err,
    storageBox,
    agentsBox,
    alarmsBox,
    channelsBox,
  );
  const admin = opts.web ? null : adminTabs(tauriCloudAdmin, { homeLabel: t("admin.overview"), homePage: home, onAccountDeleted: () => void loadStatus() });
  const root = h(
    "section",
    { class: "screen cloud", testid: "screen-cloud" },
    h("div", { class: "toolbar" }, h("h2", {}, opts.web ? t("portal.agentsTitle") : t("cloud.title")), admin?.nav),
    home,
    admin?.host,
  );

  // ---------------------------------------------------------- local sync

  function kv(label: string, value: Node | string, testid?: string, cls?: string): HTMLElement {
    return h("div", { class: `kv${cls ? ` ${cls}` : ""}`, testid }, h("span", { class: "muted" }, label), h("b", {}, value));
  }

  function paintLocal(s: LocalSync | null, e: string | null): void {
    clear(localBox);
    if (e) {
      localBox.append(h("div", { class: "error" }, e));
      return;
    }
    if (!s) return;
    if (!s.enabled) {
      localBox.append(h("div", { class: "muted", testid: "cloud-sync-disabled" }, t("cloud.syncDisabled")));
      return;
    }
    const conn = h("span", {}, stateDot(s.connected ? "connected" : "reconnecting"), " ", s.connected ? t("cloud.connected") : t("cloud.disconnected"));
    localBox.append(
      h(
        "div",
        { class: "kv-row" },
        kv(t("cloud.link"), conn, "cloud-sync-connected"),
        kv(t("cloud.agentId"), s.agent ?? t("common.none")),
        kv(t("cloud.broker"), s.broker ?? t("common.none")),
        kv(t("cloud.backlog"), t("cloud.backlogValue", { samples: s.backlog_samples, batches: s.backlog_batches }), "cloud-sync-backlog"),
        kv(t("cloud.oldest"), s.oldest_ms === null ? t("common.none") : formatDateTime(s.oldest_ms)),
        kv(t("cloud.lastAck"), formatAge(s.last_ack_ms), "cloud-sync-last-ack"),
        kv(t("cloud.traffic", { month: s.month }), localTraffic(s), "cloud-sync-traffic", s.traffic_warning ? "traffic-warn" : undefined),
      ),
    );
    if (s.paused) localBox.append(h("div", { class: "warn", testid: "cloud-sync-paused" }, `${t("cloud.paused")}: ${s.paused}`));
    if (s.last_error) localBox.append(h("div", { class: "error" }, s.last_error));
  }

  async function loadLocal(): Promise<void> {
    if (opts.web) return;
    try {
      paintLocal((await api.syncStatus()) as LocalSync, null);
    } catch (e) {
      paintLocal(null, errorText(e));
    }
  }

  // ------------------------------------------------------------- sign-in

  function field(label: string, input: HTMLElement): HTMLElement {
    return h("label", { class: "field" }, h("span", {}, label), input);
  }

  /** Runs a sign-in step; the backend's status decides what shows next. */
  async function step(formErr: HTMLElement, run: () => Promise<CloudStatus>): Promise<void> {
    if (busy) return;
    busy = true;
    showError(formErr, null);
    try {
      status = await run();
      paintAccount();
      paintStorage();
      if (status.signed_in) void loadAgents().then(loadStorage);
    } catch (e) {
      showError(formErr, errorText(e));
    } finally {
      busy = false;
    }
  }

  function signInForm(s: CloudStatus): HTMLElement {
    const url = h("input", { testid: "cloud-url", value: s.url ?? "", placeholder: "https://cloud.example.com", size: 36 });
    const account = h("input", { testid: "cloud-account-id", value: s.account ?? "", size: 16 });
    const user = h("input", { testid: "cloud-user-id", value: s.user ?? "", size: 16 });
    const password = h("input", { testid: "cloud-password", type: "password", size: 16, autocomplete: "current-password" });
    const formErr = h("div", { class: "error", testid: "cloud-signin-error", hidden: true });
    const button = h("button", { class: "primary", testid: "cloud-sign-in", type: "submit" }, t("cloud.signIn"));
    const form = h(
      "form",
      { class: "form-grid", testid: "cloud-signin-form" },
      field(t("cloud.url"), url),
      field(t("cloud.accountId"), account),
      field(t("cloud.userId"), user),
      field(t("cloud.password"), password),
      button,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void step(formErr, async () => {
        try {
          return await api.cloudSignIn(url.value, account.value, user.value, password.value);
        } finally {
          password.value = "";
        }
      });
    });
    return h("div", {}, h("p", { class: "muted" }, t("cloud.signInHint")), form, formErr);
  }

  function codeForm(s: CloudStatus): HTMLElement {
    const code = h("input", { testid: "cloud-code", size: 10, inputmode: "numeric", autocomplete: "one-time-code" });
    const formErr = h("div", { class: "error", testid: "cloud-code-error", hidden: true });
    const cancel = h("button", { type: "button", testid: "cloud-cancel" }, t("cloud.cancel"));
    cancel.addEventListener("click", () => void step(formErr, () => api.cloudSignOut()));
    const form = h(
      "form",
      { class: "form-grid", testid: "cloud-code-form" },
      field(t("cloud.code"), code),
      h("button", { class: "primary", type: "submit", testid: "cloud-code-submit" }, t("cloud.confirm")),
      cancel,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void step(formErr, () => api.cloudCode(code.value));
    });
    const hint = s.second_factor === "email" ? t("cloud.codeEmail") : t("cloud.codeTotp");
    return h("div", {}, h("p", {}, hint), form, formErr);
  }

  function passwordForm(required: boolean): HTMLElement {
    const current = h("input", { testid: "cloud-current-password", type: "password", size: 16, autocomplete: "current-password" });
    const next = h("input", { testid: "cloud-new-password", type: "password", size: 16, autocomplete: "new-password" });
    const formErr = h("div", { class: "error", testid: "cloud-password-error", hidden: true });
    const cancel = h("button", { type: "button", testid: "cloud-cancel" }, t("cloud.cancel"));
    cancel.addEventListener("click", () => {
      if (required) void step(formErr, () => api.cloudSignOut());
      else paintAccount();
    });
    const form = h(
      "form",
      { class: "form-grid", testid: "cloud-password-form" },
      field(t("cloud.currentPassword"), current),
      field(t("cloud.newPassword"), next),
      h("button", { class: "primary", type: "submit", testid: "cloud-password-submit" }, t("cloud.changePassword")),
      cancel,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void step(formErr, async () => {
        try {
          const st = await api.cloudChangePassword(current.value, next.value);
          if (!required) notice = t("cloud.passwordChanged");
          return st;
        } finally {
          current.value = "";
          next.value = "";
        }
      });
    });
    return h("div", {}, h("p", {}, required ? t("cloud.mustChange") : t("cloud.passwordPolicy")), form, formErr);
  }

  function signedIn(s: CloudStatus): HTMLElement {
    const formErr = h("div", { class: "error", hidden: true });
    const out = h("button", { testid: "cloud-sign-out" }, t("cloud.signOut"));
    out.addEventListener("click", () =>
      void step(formErr, async () => {
        const st = await api.cloudSignOut();
        // The overlaid channels belong to this account's session.
        for (const c of [...overlay.list]) removeOverlay(c.id);
        agents = [];
        openAgent = null;
        channels = [];
        clear(alarmsBox);
        storage = null;
        storageError = null;
        paintAgents();
        return st;
      }),
    );
    const change = h("button", { testid: "cloud-change-password" }, t("cloud.changePassword"));
    const refresh = h("button", { testid: "cloud-refresh" }, t("common.refresh"));
    refresh.addEventListener("click", () => void reload());
    const me = s.me;
    const who = me
      ? me.name
        ? t("cloud.signedInAs", { name: me.name, user: me.user, account: me.account, role: me.role })
        : t("cloud.signedInAsUser", { user: me.user, account: me.account, role: me.role })
      : t("cloud.signedInTo", { account: s.account ?? "", user: s.user ?? "" });
    const box = h(
      "div",
      {},
      h("div", { class: "toolbar" }, h("span", { testid: "cloud-who" }, who), h("span", { class: "muted" }, s.url ?? ""), h("span", { class: "spacer" }), refresh, change, out),
      s.error ? h("div", { class: "error", testid: "cloud-status-error" }, s.error) : null,
      notice ? h("div", { class: "ok", testid: "cloud-notice" }, notice) : null,
      formErr,
    );
    notice = null;
    change.addEventListener("click", () => {
      clear(accountBox);
      accountBox.append(box, passwordForm(false));
      change.disabled = true;
    });
    return box;
  }

  function paintAccount(): void {
    clear(accountBox);
    const s = status;
    void admin?.refresh(!!s?.signed_in && !s.step);
    if (!s) {
      accountBox.append(h("div", { class: "muted" }, t("common.loading")));
      return;
    }
    if (s.step === "code") accountBox.append(codeForm(s));
    else if (s.step === "password") accountBox.append(passwordForm(true));
    else if (s.signed_in) accountBox.append(signedIn(s));
    else {
      if (s.error) accountBox.append(h("div", { class: "error", testid: "cloud-status-error" }, s.error));
      accountBox.append(signInForm(s));
    }
  }

  // ------------------------------------------------------ agents, channels

  function paintAgents(): void {
    clear(agentsBox);
    if (!status?.signed_in) return;
    const rows = agents.map((a) => {
      const open = h("button", { class: "small", testid: "cloud-agent-open" }, t("cloud.channels"));
      open.addEventListener("click", () => void openChannels(a.id));
      return h(
        "tr",
        { testid: "cloud-agent-row", "data-agent": a.id, "data-online": String(a.online), class: a.id === openAgent ? "selected" : "" },
        h("td", {}, stateDot(a.online ? "connected" : "stopped"), " ", h("b", {}, a.name)),
        h("td", {}, a.online ? t("cloud.online") : t("cloud.offline")),
        h("td", { class: "num", testid: "cloud-agent-backlog" }, backlogText(a.sync.backlog)),
        h("td", { class: "num", title: a.sync.last_batch_ms === null ? "" : formatDateTime(a.sync.last_batch_ms) }, formatAge(a.sync.last_batch_ms)),
        h("td", { class: `num${a.traffic_warning ? " traffic-warn" : ""}`, testid: "cloud-agent-traffic" }, agentTraffic(a)),
        h("td", { class: "num", testid: "cloud-agent-samples" }, String(a.sync.samples)),
        h("td", { class: a.sync.rejected ? "warn" : "num" }, String(a.sync.rejected), a.sync.last_error ? ` · ${a.sync.last_error}` : ""),
        h("td", {}, open),
      );
    });
    agentsBox.append(
      h("h3", {}, t("cloud.agents")),
      h(
        "table",
        { class: "grid", testid: "cloud-agents" },
        h(
          "thead",
          {},
          h("tr", {}, ...["cloud.agent", "cloud.state", "cloud.backlog", "cloud.lastBatch", "cloud.trafficMonth", "cloud.samples", "cloud.rejected", ""].map((k) => h("th", {}, k ? t(k as Parameters<typeof t>[0]) : ""))),
        ),
        h("tbody", {}, ...rows),
      ),
    );
    if (!agents.length) agentsBox.append(h("div", { class: "empty" }, t("cloud.noAgents")));
  }

  function paintChannels(): void {
    clear(channelsBox);
    if (!openAgent || !status?.signed_in) return;
    const a = agents.find((x) => x.id === openAgent);
    const msg = h("span", { class: "muted", testid: "cloud-overlay-msg" });
    const rows = channels.map((c) => {
      const btn = h("button", { class: "small", testid: "cloud-add-to-viewer", "data-channel": c.id });
      const paint = (): void => {
        btn.textContent = hasOverlay(c.id) ? t("cloud.inViewer") : t("cloud.addToViewer");
        btn.classList.toggle("active", hasOverlay(c.id));
      };
      paint();
      btn.addEventListener("click", () => {
        if (hasOverlay(c.id)) removeOverlay(c.id);
        else if (!addOverlay(c)) msg.textContent = t("cloud.overlayFull", { n: MAX_OVERLAY });
        paint();
      });
      return h(
        "tr",
        { testid: "cloud-channel-row", "data-path": c.path },
        h("td", {}, c.path),
        h("td", {}, c.unit ?? ""),
        h("td", { class: "num" }, String(c.samples)),
        h("td", { class: "num" }, c.t_first === null ? t("common.none") : formatDateTime(c.t_first)),
        h("td", { class: "num" }, c.t_last === null ? t("common.none") : formatDateTime(c.t_last)),
        h("td", {}, btn),
        opts.csvHref ? h("td", {}, h("a", { class: "button small", href: opts.csvHref(c), download: "", testid: "cloud-channel-csv", "data-channel": c.id }, t("portal.csv"))) : null,
      );
    });
    channelsBox.append(
      h("div", { class: "toolbar" }, h("h3", {}, t("cloud.channelsOf", { agent: a?.name ?? openAgent })), h("span", { class: "spacer" }), msg),
      h(
        "table",
        { class: "grid", testid: "cloud-channels" },
        h("thead", {}, h("tr", {}, h("th", {}, t("cloud.path")), h("th", {}, t("cloud.unit")), h("th", {}, t("cloud.samples")), h("th", {}, t("cloud.first")), h("th", {}, t("cloud.last")), h("th", {}, ""), opts.csvHref ? h("th", {}, "") : null)),
        h("tbody", {}, ...rows),
      ),
    );
    if (!channels.length) channelsBox.append(h("div", { class: "empty" }, t("cloud.noChannels")));
  }

  // ------------------------------------------------------------ storage

  function paintStorage(): void {
    clear(storagePanel);
    storageBox.hidden = !status?.signed_in;
    if (!status?.signed_in) return;
    if (storageError) storagePanel.append(h("div", { class: "error", testid: "cloud-storage-error" }, storageError));
    const m = storage;
    if (!m) return;
    storagePanel.append(
      h(
        "div",
        { class: "limit-row", testid: "cloud-storage-meter", "data-used": String(m.used_bytes), "data-capacity": String(m.capacity_bytes) },
        h("span", { class: `limit-bar${m.over ? " full" : ""}` }, h("span", { class: "limit-fill", style: `width:${Math.min(100, m.percent)}%` })),
        h(
          "span",
          { class: "num", testid: "cloud-storage-used" },
          t("cloud.storageUsed", { used: m.used_text, capacity: m.capacity_text, percent: m.percent_text, plan: planName(m.plan) }),
        ),
      ),
    );
    if (m.over) storagePanel.append(h("div", { class: "warn", testid: "cloud-storage-over" }, t("cloud.storageOver")));
    if (!m.channels.length) return;
    const name = (agent: string): string => agents.find((a) => a.id === agent)?.name ?? agent;
    storagePanel.append(
      h(
        "table",
        { class: "grid", testid: "cloud-storage-top" },
        h("thead", {}, h("tr", {}, h("th", {}, t("cloud.storageTop")), h("th", {}, t("cloud.agent")), h("th", {}, t("cloud.storageBytes")))),
        h(
          "tbody",
          {},
          ...m.channels.map((c) =>
            h("tr", { testid: "cloud-storage-channel", "data-channel": c.channel, "data-bytes": String(c.bytes) }, h("td", {}, c.path), h("td", {}, name(c.agent)), h("td", { class: "num" }, c.bytes_text)),
          ),
        ),
      ),
    );
  }

  async function loadStorage(): Promise<void> {
    try {
      storage = await api.cloudStorage();
      storageError = null;
    } catch (e) {
      storageError = errorText(e);
    }
    paintStorage();
  }

  async function loadAgents(): Promise<void> {
    try {
      agents = await api.cloudAgents();
      showError(err, null);
    } catch (e) {
      showError(err, errorText(e));
      // Signed out by the cloud? The message is in the window's language,
      // so ask the status rather than read the words.
      const now = await api.cloudStatus().catch(() => null);
      if (now && !now.signed_in && status?.signed_in) await loadStatus();
    }
    paintAgents();
  }

  async function loadSiteAlarms(agent: string): Promise<void> {
    const name = agents.find((x) => x.id === agent)?.name ?? agent;
    const body = h("div", {});
    const head = h("h3", {}, t("sitealarms.of", { agent: name }));
    try {
      const s = await api.cloudSiteAlarms(agent);
      if (openAgent !== agent) return;
      const member = status?.me?.role !== "viewer";
      paintSiteAlarms(body, s, {
        standingOnly: true,
        ack: member ? (alarm, comment) => api.cloudAlarmAck(agent, alarm, comment) : undefined,
      });
    } catch (e) {
      body.append(h("div", { class: "error", testid: "site-alarms-error" }, errorText(e)));
    }
    clear(alarmsBox);
    alarmsBox.append(head, body);
  }

  async function openChannels(agent: string): Promise<void> {
    if (openAgent !== agent) clear(alarmsBox);
    openAgent = agent;
    paintAgents();
    void loadSiteAlarms(agent);
    try {
      const list = await api.cloudChannels(agent);
      // Another site opened meanwhile: its answer, not this late one, is shown.
      if (openAgent !== agent) return;
      channels = list;
      showError(err, null);
    } catch (e) {
      if (openAgent !== agent) return;
      channels = [];
      showError(err, errorText(e));
    }
    paintChannels();
  }

  async function loadStatus(): Promise<void> {
    try {
      status = await api.cloudStatus();
      showError(err, null);
    } catch (e) {
      showError(err, errorText(e));
    }
    paintAccount();
    paintStorage();
    paintAgents();
    paintChannels();
  }

  async function reload(): Promise<void> {
    void loadLocal();
    await loadStatus();
    if (status?.signed_in) {
      await loadAgents();
      await loadStorage();
      if (openAgent) await openChannels(openAgent);
    }
  }

  paintAccount();
  paintStorage();
  return {
    root,
    show() {
      void reload();
    },
    tick() {
      // The sync figures move while the screen is open; a form being typed in stays.
      if (++ticks % 15 !== 0) return;
      void loadLocal();
      if (status?.signed_in && !busy) void loadAgents();
    },
  };
}
