import { api, type BleFound, errorText, type Found, type InstrumentConfig, type InstrumentView } from "../api";
import { clear, h, option, showError } from "../dom";
import {
  applyInstrumentFields,
  channelsText,
  discoveryPorts,
  families,
  familyForPort,
  familyLabel,
  familyOf,
  loadFamilies,
  parseChannels,
} from "../families";
import { t, tDyn } from "../i18n";
import { app, instrumentsChanged, reasonOf, stateDot, type Screen } from "../state";
import { formatAge, formatDateTime } from "../time";
import { channelLegend, columnsHint, instrumentFields } from "./family-fields";
import { controlPanel } from "./instrument-control";

function target(c: InstrumentConfig): string {
  const tr = c.transport;
  if (tr.kind === "tcp") return tr.port ? `${tr.host}:${tr.port}` : tr.host;
  if (tr.kind === "ble" || tr.kind === "ble-uart") return `${tr.kind}:${tr.device}`;
  return `${tr.path}@${tr.baud ?? ""}`;
}

function identityText(i: { maker: string; model: string; serial: string; firmware: string } | null): string {
  if (!i) return "";
  return [i.maker, i.model, i.serial, i.firmware].map((s) => s.trim()).filter(Boolean).join(" ");
}

/** Seconds as the humantime string the backend parses; other text passes through for the backend to judge. */
function pollText(s: string): string | null {
  const v = s.trim();
  if (!v) return null;
  if (/^\d+$/.test(v)) return `${v}s`;
  if (/^\d*\.\d+$/.test(v)) return `${Math.round(parseFloat(v) * 1000)}ms`;
  return v;
}

function pollSeconds(p: string | null | undefined, fallback: number): string {
  if (!p) return fallback ? String(fallback) : "";
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?$/.exec(p.trim());
  if (!m) return p;
  const n = parseFloat(m[1]);
  const mult = m[2] === "ms" ? 0.001 : m[2] === "m" || m[2] === "min" ? 60 : m[2] === "h" ? 3600 : 1;
  return String(n * mult);
}

export function instrumentsScreen(): Screen {
  const listErr = h("div", { class: "error", hidden: true });
  const body = h("tbody");
  const empty = h("div", { class: "empty", hidden: true }, t("inst.empty"));
  const formHost = h("div", { class: "form-host" });
  const undoBar = h("div", { class: "undo-bar", hidden: true });

  const table = h(
    "table",
    { class: "grid" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", {}, t("inst.id")),
        h("th", {}, t("inst.name")),
        h("th", {}, t("inst.family")),
        h("th", {}, t("inst.target")),
        h("th", {}, t("inst.state")),
        h("th", { class: "num" }, t("inst.poll")),
        h("th", { class: "num" }, t("inst.lastPoll")),
        h("th", {}, t("inst.identity")),
        h("th", { title: t("inst.remoteHint") }, t("inst.remote")),
        h("th", {}, t("inst.actions")),
      ),
    ),
    body,
  );

  const addBtn = h("button", { class: "primary", testid: "add-instrument" }, "+ ", t("inst.add"));
  addBtn.addEventListener("click", () => void openForm(null));

  // --- discovery panel ---
  const hosts = h("input", { testid: "discover-hosts", placeholder: t("disc.hostsHint"), size: 22 });
  const ports = h("input", { class: "narrow", title: t("disc.ports"), size: 16 });
  const runBtn = h("button", { testid: "discover-run" }, t("disc.run"));
  const discErr = h("div", { class: "error", hidden: true });
  const discList = h("div", { class: "disc-list" });
  runBtn.addEventListener("click", async () => {
    showError(discErr, null);
    clear(discList);
    runBtn.disabled = true;
    runBtn.textContent = t("disc.running");
    try {
      const ps = ports.value
        .split(/[,\s]+/)
        .filter(Boolean)
        .map((p) => Number(p));
      const found = await api.discoverLan(hosts.value, ps, 500);
      renderFound(found, discList);
    } catch (e) {
      showError(discErr, errorText(e));
    } finally {
      runBtn.disabled = false;
      runBtn.textContent = t("disc.run");
    }
  });

  const serialList = h("div", { class: "disc-list" });
  const serialErr = h("div", { class: "error", hidden: true });
  const serialFound = h("div", { class: "disc-list" });
  const serialRefresh = h("button", { testid: "serial-ports-refresh" }, t("disc.serialRefresh"));
  serialRefresh.addEventListener("click", () => void refreshSerial());

  async function refreshSerial(): Promise<void> {
    showError(serialErr, null);
    clear(serialList);
    try {
      const list = await api.listSerialPorts();
      if (!list.length) serialList.append(h("div", { class: "muted" }, t("disc.serialNone")));
      for (const p of list) {
        const probe = h("button", { class: "small" }, t("disc.probe"));
        probe.addEventListener("click", async () => {
          showError(serialErr, null);
          probe.disabled = true;
          try {
            renderFound(await api.probeSerial([p.path], 9600), serialFound);
          } catch (e) {
            showError(serialErr, errorText(e));
          } finally {
            probe.disabled = false;
          }
        });
        const desc = [p.manufacturer, p.product, p.vid && p.pid ? `${p.vid}:${p.pid}` : null].filter(Boolean).join(" ");
        serialList.append(
          h("div", { class: "disc-item", testid: "serial-port", "data-path": p.path }, h("code", {}, p.path), h("span", { class: "muted" }, desc), probe),
        );
      }
    } catch (e) {
      showError(serialErr, errorText(e));
    }
  }

  function renderFound(found: Found[], into: HTMLElement): void {
    clear(into);
    if (!found.length) into.append(h("div", { class: "muted" }, t("disc.none")));
    for (const f of found) {
      const add = h("button", { class: "small", testid: "discover-add" }, "+ ", t("disc.add"));
      add.addEventListener("click", () => {
        const family = f.family_guess ?? familyForPort(families(), f.port)?.id ?? families()[0]?.id ?? "";
        const base: InstrumentConfig =
          f.port === null
            ? { id: "", family, transport: { kind: "serial", path: f.address, baud: 9600 } }
            : { id: "", family, transport: { kind: "tcp", host: f.address, port: f.port } };
        void openForm(null, base);
      });
      const addr = f.port === null ? f.address : `${f.address}:${f.port}`;
      into.append(
        h(
          "div",
          { class: "disc-item", testid: "discover-result", "data-address": addr },
          h("code", {}, addr),
          h("span", { class: "chip" }, f.family_guess ? familyLabel(f.family_guess) : "?"),
          h("span", {}, identityText(f.identity) || h("span", { class: "muted" }, f.error ?? t("disc.unidentified"))),
          add,
        ),
      );
    }
  }

  // --- Bluetooth LE scan (issue 14): name, address, RSSI, services, the family that fits ---
  const bleRun = h("button", { testid: "ble-scan" }, t("disc.bleScan"));
  const bleErr = h("div", { class: "error", hidden: true });
  const bleList = h("div", { class: "disc-list" });
  bleRun.addEventListener("click", async () => {
    showError(bleErr, null);
    clear(bleList);
    bleRun.disabled = true;
    bleRun.textContent = t("disc.bleScanning");
    try {
      renderBle(await api.discoverBle(5));
    } catch (e) {
      showError(bleErr, errorText(e));
    } finally {
      bleRun.disabled = false;
      bleRun.textContent = t("disc.bleScan");
    }
  });

  function renderBle(found: BleFound[]): void {
    clear(bleList);
    if (!found.length) bleList.append(h("div", { class: "muted" }, t("disc.bleNone")));
    for (const f of found) {
      const add = h("button", { class: "small", testid: "ble-add" }, "+ ", t("disc.add"));
      const transport = f.transport;
      add.disabled = !transport || !f.family;
      add.addEventListener("click", () => {
        if (transport && f.family) void openForm(null, { id: "", name: f.name, family: f.family, transport });
      });
      // Services by their short name where they are SIG ones (0x181A), else in full.
      const services = f.services
        .map((u) => (/^0000[0-9a-f]{4}-0000-1000-8000-00805f9b34fb$/.test(u) ? `0x${u.slice(4, 8).toUpperCase()}` : u))
        .join(" ");
      bleList.append(
        h(
          "div",
          { class: "disc-item ble", testid: "ble-result", "data-address": f.address, title: services },
          h("strong", {}, f.name ?? t("disc.bleUnnamed")),
          h("code", {}, f.address),
          h("span", { class: "rssi", testid: "ble-rssi", title: t("disc.bleRssi") }, f.rssi === null ? "" : `${f.rssi} dBm`),
          h("span", { class: "chip" }, f.family ? familyLabel(f.family) : "?"),
          h("span", { class: "muted" }, transport ? tDyn(`inst.transport.${transport.kind}`, transport.kind) : t("disc.bleUnknown")),
          h("code", { class: "muted" }, services),
          add,
        ),
      );
    }
  }

  const discovery = h(
    "div",
    { class: "discovery" },
    h(
      "section",
      { class: "panel" },
      h("h3", {}, t("disc.title")),
      h("div", { class: "row" }, h("label", {}, t("disc.hosts")), hosts, h("label", {}, t("disc.ports")), ports, runBtn),
      discErr,
      discList,
    ),
    h(
      "section",
      { class: "panel" },
      h("h3", {}, t("disc.serial")),
      h("div", { class: "row" }, serialRefresh),
      serialErr,
      serialList,
      serialFound,
    ),
    h("section", { class: "panel" }, h("h3", {}, t("disc.ble")), h("div", { class: "row" }, bleRun), bleErr, bleList),
  );

  // The agent-wide consent (`*`) to adding instruments from the cloud; like
  // the per-instrument switch, only this window and the local CLI change it.
  const remoteAdd = h("input", { type: "checkbox", testid: "inst-remote-add-consent" });
  remoteAdd.addEventListener("change", async () => {
    const on = remoteAdd.checked;
    remoteAdd.disabled = true;
    try {
      await api.remoteConsentSet("*", on);
      if (on) consents.add("*");
      else consents.delete("*");
      showError(listErr, null);
    } catch (e) {
      showError(listErr, errorText(e));
    } finally {
      remoteAdd.disabled = false;
      remoteAdd.checked = consents.has("*");
    }
  });

  const root = h(
    "section",
    { class: "screen", testid: "screen-instruments" },
    h("div", { class: "toolbar" }, h("h2", {}, t("inst.title")), h("span", { class: "spacer" }), addBtn),
    listErr,
    undoBar,
    formHost,
    h(
      "div",
      { class: "scroll main-col" },
      table,
      empty,
      h("p", { class: "muted remote-hint", testid: "inst-remote-hint" }, t("inst.remoteHint")),
      h(
        "p",
        { class: "remote-add", title: t("inst.remoteAddHint") },
        h("label", { class: "switch" }, remoteAdd, h("span", {}, t("inst.remoteAddSwitch"))),
      ),
    ),
    discovery,
  );

  // --- form ---
  async function openForm(editing: InstrumentView | null, preset?: InstrumentConfig): Promise<void> {
    let list = families();
    try {
      list = await loadFamilies();
    } catch (e) {
      showError(listErr, errorText(e));
      return;
    }
    clear(formHost);
    const orig: InstrumentConfig | null = editing ? editing.config : preset ?? null;
    const tr = orig?.transport;
    const id = h("input", { testid: "inst-id", value: orig?.id ?? "" });
    const name = h("input", { testid: "inst-name", value: orig?.name ?? "" });
    const current = orig?.family ?? list[0]?.id ?? "";
    const family = h("select", { testid: "inst-family" }, ...list.map((f) => option(f.id, familyLabel(f.id), f.id === current)));
    if (orig && !familyOf(orig.family)) family.append(option(orig.family, orig.family, true));
    const transport = h("select", { testid: "inst-transport" });
    const host = h("input", { testid: "inst-host", value: tr?.kind === "tcp" ? tr.host : "" });
    const port = h("input", {
      testid: "inst-port",
      class: "narrow",
      inputmode: "numeric",
      value: tr?.kind === "tcp" && tr.port ? String(tr.port) : "",
    });
    const serialPath = h("input", { testid: "inst-serial-path", value: tr?.kind === "serial" ? tr.path : "" });
    // Bluetooth LE: the device's name (found again under a new random address) or its address.
    const bleDevice = h("input", { testid: "inst-ble-device", value: tr?.kind === "ble" || tr?.kind === "ble-uart" ? tr.device : "" });
    const baud = h("input", { testid: "inst-baud", class: "narrow", inputmode: "numeric", value: tr?.kind === "serial" ? String(tr.baud ?? 9600) : "9600" });
    const poll = h("input", {
      testid: "inst-poll",
      class: "narrow",
      inputmode: "decimal",
      value: pollSeconds(orig?.poll_interval, editing?.pollIntervalS ?? 0),
    });
    // What the agent does on every connect (issue 14).
    const clockOnConnect = h("input", { type: "checkbox", testid: "inst-set-clock-on-connect", checked: orig?.set_clock_on_connect === true });
    const startOnConnect = h("input", { type: "checkbox", testid: "inst-start-on-connect", checked: orig?.start_on_connect === true });
    const famFields = instrumentFields();
    const channels = h("textarea", { testid: "inst-channels", rows: 5 });
    const channelsHint = h("small", { class: "muted" });
    const legendHost = h("div", {});
    const error = h("div", { class: "error", testid: "inst-error", hidden: true });
    const save = h("button", { class: "primary", testid: "inst-save", type: "submit" }, t("inst.save"));
    const cancel = h("button", { testid: "inst-cancel", type: "button" }, t("inst.cancel"));

    const tcpRow = h("div", { class: "field-group" }, field(t("inst.host"), host), field(t("inst.port"), port));
    const serRow = h("div", { class: "field-group" }, field(t("inst.serialPath"), serialPath), field(t("inst.baud"), baud));
    const bleRow = h("div", { class: "field-group" }, field(t("inst.bleDevice"), bleDevice));
    const syncTransport = (): void => {
      tcpRow.hidden = transport.value !== "tcp";
      serRow.hidden = transport.value !== "serial";
      bleRow.hidden = transport.value !== "ble" && transport.value !== "ble-uart";
    };
    transport.addEventListener("change", syncTransport);

    // Everything the family decides: transports, default port, its own
    // fields and the channel table's columns (rewritten in the new
    // family's columns when the family changes).
    let shownFamily = familyOf(family.value);
    const syncFamily = (first: boolean): void => {
      const fam = familyOf(family.value);
      const previous = first ? orig?.channel ?? [] : shownFamily ? parseChannels(shownFamily, channels.value, orig?.channel ?? []) : [];
      const wanted = first ? (tr?.kind ?? "tcp") : transport.value;
      clear(transport);
      const kinds = fam?.transports ?? ["tcp", "serial"];
      for (const k of kinds) transport.append(option(k, tDyn(`inst.transport.${k}`, k), k === wanted));
      if (!kinds.includes(wanted as (typeof kinds)[number]) && transport.options.length) transport.selectedIndex = 0;
      port.placeholder = fam?.defaultPort ? String(fam.defaultPort) : "";
      port.title = fam?.defaultPort ? `${t("inst.portHint")}: ${fam.defaultPort}` : "";
      famFields.show(fam, orig);
      if (fam) channels.value = channelsText(fam, previous);
      channels.placeholder = columnsHint(fam);
      channelsHint.textContent = `  ${t("inst.channelsHint", { columns: columnsHint(fam) })}`;
      clear(legendHost);
      legendHost.append(channelLegend(fam));
      shownFamily = fam;
      syncTransport();
    };
    family.addEventListener("change", () => syncFamily(false));
    syncFamily(true);

    const form = h(
      "form",
      { class: "panel inst-form", novalidate: true },
      h("h3", {}, editing ? t("inst.formEdit", { id: editing.config.id }) : t("inst.formAdd")),
      h(
        "div",
        { class: "form-grid" },
        field(t("inst.id"), id),
        field(t("inst.name"), name),
        field(t("inst.family"), family),
        field(t("inst.transport"), transport),
        tcpRow,
        serRow,
        bleRow,
        field(t("inst.pollS"), poll),
        famFields.root,
        h("label", { class: "check field-check" }, clockOnConnect, t("inst.setClockOnConnect")),
        h("label", { class: "check field-check" }, startOnConnect, t("inst.startOnConnect")),
      ),
      h("label", { class: "field wide" }, h("span", {}, t("inst.channels"), channelsHint), channels),
      legendHost,
      error,
      h("div", { class: "row" }, save, cancel),
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      showError(error, null);
      const fam = familyOf(family.value);
      const base: InstrumentConfig = orig ? structuredClone(orig) : { id: "", family: family.value, transport: { kind: "tcp", host: "" } };
      const prevTr = orig?.transport;
      const cfg: InstrumentConfig = {
        ...base,
        id: id.value.trim(),
        name: name.value.trim() ? name.value.trim() : null,
        family: family.value,
        poll_interval: pollText(poll.value),
        set_clock_on_connect: clockOnConnect.checked,
        start_on_connect: startOnConnect.checked,
        channel: fam ? parseChannels(fam, channels.value, orig?.channel ?? []) : base.channel,
      };
      if (fam) applyInstrumentFields(fam, cfg, famFields.entries());
      if (transport.value === "tcp") {
        const p = port.value.trim();
        cfg.transport = {
          ...(prevTr?.kind === "tcp" ? prevTr : {}),
          kind: "tcp",
          host: host.value.trim(),
          port: p === "" ? null : (Number.isFinite(Number(p)) ? Number(p) : (p as unknown as number)),
        };
      } else if (transport.value === "ble" || transport.value === "ble-uart") {
        const kind = transport.value;
        cfg.transport = {
          ...(prevTr?.kind === kind ? prevTr : {}),
          kind,
          device: bleDevice.value.trim(),
        };
      } else {
        const b = baud.value.trim();
        cfg.transport = {
          ...(prevTr?.kind === "serial" ? prevTr : {}),
          kind: "serial",
          path: serialPath.value.trim(),
          baud: Number.isFinite(Number(b)) && b !== "" ? Number(b) : (b as unknown as number),
        };
      }
      save.disabled = true;
      save.textContent = t("inst.saving");
      try {
        await api.saveInstrument(cfg, editing ? editing.config.id : null);
        clear(formHost);
        await reload();
      } catch (e) {
        showError(error, errorText(e));
      } finally {
        save.disabled = false;
        save.textContent = t("inst.save");
      }
    });
    cancel.addEventListener("click", () => clear(formHost));
    form.addEventListener("keydown", (e) => {
      if (e.key === "Escape") clear(formHost);
    });
    formHost.append(form);
    form.scrollIntoView({ block: "nearest" });
    id.focus();
  }

  function field(label: string, input: HTMLElement): HTMLLabelElement {
    return h("label", { class: "field" }, h("span", {}, label), input);
  }

  // --- list ---
  // Rows are keyed by instrument id and updated in place, so a state change
  // or a periodic refresh never replaces elements someone is pointing at.
  interface Row {
    tr: HTMLTableRowElement;
    cfgKey: string;
    update(v: InstrumentView): void;
  }
  const rows = new Map<string, Row>();
  const rowMsgs = new Map<string, HTMLElement>();
  // The owner's consent to remote control from the cloud, per instrument
  // (issue 16): the backend's list, off unless listed.
  let consents = new Set<string>();

  function buildRow(first: InstrumentView): Row {
    let v = first;
    const c = first.config;
    const msg = rowMsgs.get(c.id) ?? h("div", { class: "row-msg", hidden: true });
    rowMsgs.set(c.id, msg);
    const edit = h("button", { class: "small", testid: "inst-edit" }, t("inst.edit"));
    edit.addEventListener("click", () => void openForm(v));
    const remove = h("button", { class: "small danger", testid: "inst-remove" }, t("inst.remove"));
    remove.addEventListener("click", async () => {
      remove.disabled = true;
      try {
        await api.removeInstrument(c.id);
        showUndo(c);
        await reload();
      } catch (e) {
        remove.disabled = false;
        rowMessage(c.id, errorText(e), true);
      }
    });
    const control = h("button", { class: "small", testid: "inst-control" }, t("ctl.open"));
    control.addEventListener("click", () => {
      clear(formHost);
      const panel = controlPanel(c, () => clear(formHost));
      formHost.append(panel);
      panel.scrollIntoView({ block: "nearest" });
    });
    const identify = h("button", { class: "small", testid: "inst-identify" }, t("inst.identify"));
    identify.addEventListener("click", async () => {
      identify.disabled = true;
      try {
        const r = await api.identify(c.id);
        v.identity = r.identity;
        rowMessage(c.id, [t("inst.identified", { identity: identityText(r.identity) }), r.warning].filter(Boolean).join(" — "), Boolean(r.warning));
        paint();
      } catch (e) {
        rowMessage(c.id, errorText(e), true);
      } finally {
        identify.disabled = false;
      }
    });
    const fastOn = (): boolean => v.fastUntil !== null && v.fastUntil > Date.now();
    const fast = h("button", { class: "small", testid: "inst-fast" });
    fast.addEventListener("click", async () => {
      try {
        v.fastUntil = await api.setFastMonitor(c.id, !fastOn());
        paint();
      } catch (e) {
        rowMessage(c.id, errorText(e), true);
      }
    });
    // Only this window (and the local CLI) changes it; no cloud command can.
    const remote = h("input", { type: "checkbox", testid: "inst-remote-consent" });
    remote.addEventListener("change", async () => {
      const on = remote.checked;
      remote.disabled = true;
      try {
        await api.remoteConsentSet(c.id, on);
        if (on) consents.add(c.id);
        else consents.delete(c.id);
      } catch (e) {
        rowMessage(c.id, errorText(e), true);
      } finally {
        remote.disabled = false;
        paint();
      }
    });
    const remoteCell = h(
      "td",
      { class: "remote", title: t("inst.remoteHint") },
      h("label", { class: "switch" }, remote, h("span", {}, t("inst.remoteSwitch"))),
    );
    const stateSpan = h("span", { testid: "instrument-state" });
    const reason = h("div", { class: "reason" });
    const stateCell = h("td", {}, stateSpan, reason);
    const pollCell = h("td", { class: "num" });
    const lastCell = h("td", { class: "num last-poll" });
    const identCell = h("td", { class: "ident" });
    const familyCell = h("td", {});
    const tr = h(
      "tr",
      { testid: "instrument-row", "data-id": c.id, class: c.enabled === false ? "disabled" : "" },
      h("td", {}, h("code", {}, c.id)),
      h("td", {}, c.name ?? ""),
      familyCell,
      h("td", {}, h("code", {}, target(c))),
      stateCell,
      pollCell,
      lastCell,
      identCell,
      remoteCell,
      h("td", { class: "actions" }, h("div", { class: "btns" }, edit, control, identify, fast, remove), msg),
    );

    function paint(): void {
      familyCell.textContent = familyLabel(c.family);
      clear(stateSpan);
      stateSpan.dataset.state = v.state;
      stateSpan.append(stateDot(v.state), tDyn(`state.${v.state}`, v.state));
      const why = reasonOf(v);
      stateCell.title = why;
      // A connected instrument's reason names the channels that fail on their own.
      reason.textContent = why;
      reason.hidden = !reason.textContent;
      stateCell.classList.toggle("nowrap", reason.hidden);
      pollCell.textContent = `${v.pollIntervalS} s`;
      lastCell.textContent = formatAge(v.lastPoll);
      lastCell.title = v.lastPoll ? formatDateTime(v.lastPoll) : "";
      clear(identCell);
      identCell.append(identityText(v.identity));
      if (v.compatWarning) identCell.append(h("div", { class: "warn" }, "⚠ ", v.compatWarning));
      const on = fastOn();
      fast.textContent = on ? t("inst.fastOff") : t("inst.fast");
      fast.classList.toggle("active", on);
      fast.setAttribute("aria-pressed", String(on));
      fast.title = on && v.fastUntil ? t("monitor.fastUntil", { t: formatDateTime(v.fastUntil) }) : "";
      remote.checked = consents.has(c.id);
    }

    return {
      tr,
      cfgKey: JSON.stringify(c),
      update(next: InstrumentView) {
        v = next;
        paint();
      },
    };
  }

  function render(): void {
    empty.hidden = app.instruments.length > 0;
    const seen = new Set<string>();
    let prev: ChildNode | null = null;
    for (const v of app.instruments) {
      const id = v.config.id;
      const key = JSON.stringify(v.config);
      let r = rows.get(id);
      if (!r || r.cfgKey !== key) {
        const fresh = buildRow(v);
        if (r) r.tr.replaceWith(fresh.tr);
        r = fresh;
        rows.set(id, r);
      }
      r.update(v);
      const expected: ChildNode | null = prev ? prev.nextSibling : body.firstChild;
      if (expected !== r.tr) body.insertBefore(r.tr, expected);
      prev = r.tr;
      seen.add(id);
    }
    for (const [id, r] of rows) {
      if (!seen.has(id)) {
        r.tr.remove();
        rows.delete(id);
        rowMsgs.delete(id);
      }
    }
  }

  /** No blocking confirm dialog: removal is immediate and can be undone. */
  function showUndo(removed: InstrumentConfig): void {
    clear(undoBar);
    const undo = h("button", { class: "small", testid: "inst-undo" }, t("inst.undo"));
    undo.addEventListener("click", async () => {
      undo.disabled = true;
      try {
        await api.saveInstrument(removed, null);
        undoBar.hidden = true;
        await reload();
      } catch (e) {
        undoBar.append(h("span", { class: "error" }, errorText(e)));
      }
    });
    undoBar.append(h("span", {}, t("inst.removed", { id: removed.id })), undo);
    undoBar.hidden = false;
  }

  function rowMessage(id: string, text: string, isError: boolean): void {
    const m = rowMsgs.get(id);
    if (!m) return;
    m.textContent = text;
    m.className = isError ? "row-msg error" : "row-msg ok";
    m.hidden = false;
  }

  async function reload(): Promise<void> {
    try {
      consents = new Set(await api.remoteConsents());
      remoteAdd.checked = consents.has("*");
      instrumentsChanged(await api.listInstruments());
      showError(listErr, null);
    } catch (e) {
      showError(listErr, errorText(e));
    }
  }

  app.listeners.add(() => {
    if (root.isConnected) render();
  });

  let serialLoaded = false;
  return {
    root,
    show() {
      render();
      void reload();
      void loadFamilies().then(
        (list) => {
          if (!ports.value) ports.value = discoveryPorts(list).join(",");
          render();
        },
        (e: unknown) => showError(listErr, errorText(e)),
      );
      if (!serialLoaded) {
        serialLoaded = true;
        void refreshSerial();
      }
    },
    tick() {
      // keep "last poll" ages fresh without rebuilding the rows
      for (const v of app.instruments) {
        const cell = rows.get(v.config.id)?.tr.querySelector<HTMLElement>("td.last-poll");
        if (cell) cell.textContent = formatAge(v.lastPoll);
      }
    },
  };
}
