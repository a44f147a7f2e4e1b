// The Instruments screen's control panel for one instrument (issue 14):
// start, stop, restart a measurement, set its clock now, and settings
// profiles (save the instrument's settings, see a profile's diff against
// the instrument, push it after a confirmation, see what was read back).
// Everything is done and judged by the backend; this shows its answers.
import { api, errorText, type ControlOutcome, type InstrumentConfig, type SettingDiff } from "../api";
import { clear, h, option } from "../dom";
import { t } from "../i18n";

const BUTTONS = [
  ["start", "ctl.start"],
  ["stop", "ctl.stop"],
  ["restart", "ctl.restart"],
  ["set-clock", "ctl.setClock"],
] as const;

/** The panel for `inst`; `close` removes it. */
export function controlPanel(inst: InstrumentConfig, close: () => void): HTMLElement {
  const id = inst.id;
  const operator = h("input", { testid: "ctl-operator", size: 26, placeholder: t("ctl.operatorHint") });
  const result = h("div", { class: "row-msg", testid: "ctl-result", hidden: true, role: "status" });
  const say = (text: string, isError: boolean): void => {
    result.textContent = text;
    result.className = isError ? "row-msg error" : "row-msg ok";
    result.hidden = false;
  };

  /** Runs `f` with `btn` disabled; an error is shown in the result line. */
  async function busy<T>(btn: HTMLButtonElement, f: () => Promise<T>): Promise<T | null> {
    btn.disabled = true;
    result.hidden = true;
    try {
      return await f();
    } catch (e) {
      say(errorText(e), true);
      return null;
    } finally {
      btn.disabled = false;
    }
  }

  const buttons = BUTTONS.map(([cmd, label]) => {
    const b = h("button", { testid: `ctl-${cmd}` }, t(label));
    b.addEventListener("click", async () => {
      const out = await busy(b, () => api.instrumentControl(id, operator.value, cmd));
      if (out) say(`${id}: ${out.message}`, false);
    });
    return b;
  });

  // --- profiles ---
  const name = h("input", { testid: "ctl-profile-name", size: 16, placeholder: "base" });
  const saveBtn = h("button", { testid: "ctl-profile-save" }, t("ctl.saveProfile"));
  const pick = h("select", { testid: "ctl-profile-pick" });
  const diffBtn = h("button", { testid: "ctl-diff" }, t("ctl.diff"));
  const pushBtn = h("button", { class: "primary", testid: "ctl-push", disabled: true }, t("ctl.push"));
  const diffHost = h("div", { class: "ctl-diff", testid: "ctl-diff-host" });
  const confirmBar = h("div", { class: "undo-bar", testid: "ctl-confirm", hidden: true });
  const readBack = h("div", { class: "ctl-readback", testid: "ctl-readback-host" });
  let shown: { profile: string; changes: number } | null = null;

  async function loadProfiles(select?: string): Promise<void> {
    try {
      const list = await api.profilesList(id);
      const cur = select ?? pick.value;
      clear(pick);
      if (!list.length) pick.append(option("", t("ctl.noProfiles")));
      for (const p of list) pick.append(option(p.name, `${p.name} (${p.settings.length})`, p.name === cur));
      diffBtn.disabled = !list.length;
    } catch (e) {
      say(errorText(e), true);
    }
  }

  saveBtn.addEventListener("click", async () => {
    const p = await busy(saveBtn, () => api.profileSave(id, operator.value, name.value));
    if (!p) return;
    say(t("ctl.saved", { name: p.name, n: p.settings.length }), false);
    await loadProfiles(p.name);
  });

  function renderDiff(profile: string, rows: SettingDiff[]): void {
    clear(diffHost);
    clear(readBack);
    confirmBar.hidden = true;
    const changes = rows.filter((d) => d.changes).length;
    shown = { profile, changes };
    pushBtn.disabled = changes === 0;
    const cell = (v: string | null): HTMLElement => (v === null ? h("td", { class: "muted" }, t("ctl.notListed")) : h("td", {}, h("code", {}, v)));
    diffHost.append(
      h("div", { class: changes ? "warn" : "muted", testid: "ctl-diff-summary" }, changes ? t("ctl.changes", { n: changes, name: profile }) : t("ctl.same")),
      h(
        "table",
        { class: "grid compact", testid: "ctl-diff" },
        h("thead", {}, h("tr", {}, h("th", {}, t("ctl.setting")), h("th", {}, t("ctl.now")), h("th", {}, t("ctl.profile")))),
        h(
          "tbody",
          {},
          rows.map((d) =>
            h(
              "tr",
              { testid: "ctl-diff-row", "data-key": d.key, "data-changes": String(d.changes), class: d.changes ? "changed" : "" },
              h("td", {}, h("code", {}, d.key), d.changes ? h("span", { class: "chip" }, "≠") : null),
              cell(d.current),
              cell(d.profile),
            ),
          ),
        ),
      ),
    );
  }

  diffBtn.addEventListener("click", async () => {
    const profile = pick.value;
    const rows = await busy(diffBtn, () => api.profileDiff(id, operator.value, profile));
    if (rows) renderDiff(profile, rows);
  });

  function renderReadBack(out: ControlOutcome): void {
    clear(readBack);
    readBack.append(
      h("h4", {}, t("ctl.readBack")),
      h(
        "table",
        { class: "grid compact", testid: "ctl-readback" },
        h("tbody", {}, out.settings.map((s) => {
          const changed = out.changed.find((c) => c.key === s.key);
          return h(
            "tr",
            { testid: "ctl-readback-row", "data-key": s.key, class: changed ? "changed" : "" },
            h("td", {}, h("code", {}, s.key)),
            h("td", {}, h("code", {}, s.value)),
            h("td", { class: "muted" }, changed?.current ? `← ${changed.current}` : ""),
          );
        })),
      ),
    );
  }

  pushBtn.addEventListener("click", () => {
    if (!shown) return;
    const { profile, changes } = shown;
    clear(confirmBar);
    const yes = h("button", { class: "primary", testid: "ctl-confirm-yes" }, t("ctl.confirmYes"));
    const no = h("button", { testid: "ctl-confirm-no" }, t("common.cancel"));
    no.addEventListener("click", () => (confirmBar.hidden = true));
    yes.addEventListener("click", async () => {
      no.disabled = true;
      const out = await busy(yes, () => api.profilePush(id, operator.value, profile));
      confirmBar.hidden = true;
      if (!out) return;
      say(`${id}: ${out.message}`, false);
      pushBtn.disabled = true;
      clear(diffHost);
      renderReadBack(out);
    });
    confirmBar.append(h("span", {}, t("ctl.confirm", { name: profile, id, n: changes })), yes, no);
    confirmBar.hidden = false;
    yes.focus();
  });

  const closeBtn = h("button", { testid: "ctl-close" }, t("ctl.close"));
  closeBtn.addEventListener("click", close);
  void loadProfiles();

  return h(
    "section",
    { class: "panel control-panel", testid: "control-panel", "data-id": id },
    h("h3", {}, t("ctl.title", { id })),
    h("div", { class: "row" }, h("label", {}, t("ctl.operator")), operator),
    h("div", { class: "row ctl-buttons" }, buttons),
    result,
    h("h4", {}, t("ctl.profiles")),
    h("div", { class: "row" }, h("label", {}, t("ctl.profileName")), name, saveBtn),
    h("div", { class: "row" }, h("label", {}, t("ctl.pick")), pick, diffBtn, pushBtn),
    confirmBar,
    diffHost,
    readBack,
    h("div", { class: "row" }, closeBtn),
  );
}
