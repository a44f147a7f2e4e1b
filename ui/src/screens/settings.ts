import { api, errorText, type Lang, type Theme, type UiSettings } from "../api";
import { h, option, showError } from "../dom";
import { t } from "../i18n";
import { app, type Screen } from "../state";

export function settingsScreen(onSaved: (s: UiSettings) => void): Screen {
  const s = app.state!.settings;
  const lang = h("select", { testid: "settings-language" }, option("en", t("settings.lang.en"), s.language === "en"), option("ja", t("settings.lang.ja"), s.language === "ja"), option("de", t("settings.lang.de"), s.language === "de"));
  const tz = h("input", { testid: "settings-timezone", value: s.timezone, placeholder: t("settings.timezoneHint"), size: 28, list: "tz-list" });
  const zones = h("datalist", { id: "tz-list" });
  try {
    const sup = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf;
    for (const z of sup ? sup("timeZone") : []) zones.append(h("option", { value: z }));
  } catch {
    /* older engines: free text only */
  }
  const theme = h("select", { testid: "settings-theme" }, option("light", t("settings.theme.light"), s.theme === "light"), option("dark", t("settings.theme.dark"), s.theme === "dark"));
  const dataDir = h("input", { testid: "settings-data-dir", value: app.state!.dataDir, readonly: true, size: 50 });
  const configPath = h("input", { value: app.state!.configPath, readonly: true, size: 50 });
  const err = h("div", { class: "error", testid: "settings-error", hidden: true });
  const ok = h("span", { class: "ok", hidden: true }, t("settings.saved"));

  async function save(): Promise<void> {
    showError(err, null);
    ok.hidden = true;
    const next: UiSettings = { language: lang.value as Lang, timezone: tz.value.trim(), theme: theme.value as Theme };
    try {
      await api.saveSettings(next);
      onSaved(next);
    } catch (e) {
      showError(err, errorText(e));
    }
  }
  lang.addEventListener("change", () => void save());
  theme.addEventListener("change", () => void save());
  tz.addEventListener("change", () => void save());

  const row = (label: string, input: HTMLElement, hint?: string): HTMLElement =>
    h("label", { class: "field" }, h("span", {}, label), input, hint ? h("small", { class: "muted" }, hint) : null);

  const root = h(
    "section",
    { class: "screen settings", testid: "screen-settings" },
    h("div", { class: "toolbar" }, h("h2", {}, t("settings.title"))),
    h(
      "div",
      { class: "panel settings-panel" },
      row(t("settings.language"), lang),
      row(t("settings.timezone"), tz, t("settings.timezoneHint")),
      zones,
      row(t("settings.theme"), theme),
      err,
      ok,
      row(t("settings.dataDir"), dataDir),
      row(t("settings.configPath"), configPath),
      h("div", { class: "field" }, h("span", {}, t("settings.version")), h("code", {}, app.state!.version)),
    ),
  );
  return { root, show() {} };
}
