import { api, errorText } from "../api";
import { clear, h, option, showError } from "../dom";
import { t } from "../i18n";
import { app, type Screen } from "../state";
import { formatDateTime, formatTime } from "../time";

export function consoleScreen(): Screen {
  let held: string | null = null;
  const inst = h("select", { testid: "console-instrument" });
  const operator = h("input", { testid: "console-operator", placeholder: t("console.operator"), size: 14 });
  const acquire = h("button", { class: "primary", testid: "console-acquire" }, t("console.acquire"));
  const release = h("button", { testid: "console-release" }, t("console.release"));
  const holder = h("div", { class: "holder", testid: "console-holder", hidden: true });
  // A cloud user holding this instrument's console (issue 16): polled, as
  // the hold lives in the agent's store.
  const remoteBanner = h("div", { class: "remote-banner", testid: "console-remote", hidden: true });
  const status = h("div", { class: "muted status" });
  const output = h("pre", { class: "console-output", testid: "console-output" });
  const input = h("input", { testid: "console-input", placeholder: t("console.input"), class: "mono grow", autocomplete: "off", spellcheck: "false" });
  const send = h("button", { class: "primary", testid: "console-send" }, t("console.send"));
  const history: string[] = [];
  let histPos = 0;

  function log(kind: "sent" | "reply" | "error" | "info", text: string): void {
    const prefix = kind === "sent" ? "> " : kind === "reply" ? "< " : kind === "error" ? "! " : "# ";
    output.append(h("div", { class: `line ${kind}` }, h("span", { class: "ts" }, formatTime(Date.now())), " ", prefix + text));
    output.scrollTop = output.scrollHeight;
  }

  function paint(): void {
    const on = held !== null && held === inst.value;
    input.disabled = send.disabled = !on;
    release.disabled = !on;
    acquire.disabled = on;
    status.textContent = on ? t("console.held", { instrument: held ?? "" }) : t("console.notHeld");
  }

  let remoteAsked = 0;
  async function refreshRemote(): Promise<void> {
    const id = inst.value;
    const ask = ++remoteAsked;
    try {
      const hold = id ? await api.remoteConsoleHolder(id) : null;
      if (ask !== remoteAsked) return;
      remoteBanner.textContent = hold ? t("console.remoteHolder", { user: hold.operator, time: formatDateTime(hold.since) }) : "";
      remoteBanner.hidden = !hold;
    } catch (e) {
      if (ask === remoteAsked) showError(holder, errorText(e));
    }
  }

  let lastIds = "";
  function fillInstruments(): void {
    const ids = app.instruments.map((v) => `${v.config.id}\u0000${v.config.name ?? ""}`).join("\u0001");
    if (ids === lastIds && inst.options.length) return;
    lastIds = ids;
    const cur = inst.value;
    clear(inst);
    for (const v of app.instruments) inst.append(option(v.config.id, v.config.name ? `${v.config.id} — ${v.config.name}` : v.config.id, v.config.id === cur));
    paint();
  }

  acquire.addEventListener("click", async () => {
    showError(holder, null);
    try {
      await api.consoleAcquire(inst.value, operator.value);
      held = inst.value;
      log("info", t("console.held", { instrument: inst.value }));
      input.disabled = false;
      paint();
      input.focus();
    } catch (e) {
      showError(holder, errorText(e));
    }
  });

  release.addEventListener("click", () => void doRelease());
  async function doRelease(): Promise<void> {
    if (held === null) return;
    const id = held;
    try {
      await api.consoleRelease(id, operator.value);
      held = null;
      paint();
    } catch (e) {
      showError(holder, errorText(e));
    }
  }

  async function doSend(): Promise<void> {
    const cmd = input.value;
    if (!cmd.trim() || held === null) return;
    history.push(cmd);
    histPos = history.length;
    input.value = "";
    log("sent", cmd);
    try {
      const reply = await api.consoleSend(held, operator.value, cmd);
      log("reply", reply ?? t("console.noReply"));
    } catch (e) {
      log("error", errorText(e));
    }
  }
  send.addEventListener("click", () => void doSend());
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") void doSend();
    else if (e.key === "ArrowUp" && histPos > 0) input.value = history[--histPos];
    else if (e.key === "ArrowDown" && histPos < history.length) input.value = history[++histPos] ?? "";
  });
  inst.addEventListener("change", () => {
    showError(holder, null);
    if (held !== null && held !== inst.value) void doRelease();
    paint();
    void refreshRemote();
  });

  app.listeners.add(fillInstruments);

  const root = h(
    "section",
    { class: "screen console", testid: "screen-console" },
    h("div", { class: "toolbar" }, h("h2", {}, t("console.title"))),
    h(
      "div",
      { class: "toolbar" },
      h("label", { class: "field inline" }, h("span", {}, t("console.instrument")), inst),
      h("label", { class: "field inline" }, h("span", {}, t("console.operator")), operator),
      acquire,
      release,
      status,
    ),
    remoteBanner,
    holder,
    output,
    h("div", { class: "toolbar" }, input, send),
  );
  let n = 0;
  return {
    root,
    show() {
      fillInstruments();
      void refreshRemote();
    },
    tick() {
      if (++n % 3 === 0) void refreshRemote();
    },
  };
}
