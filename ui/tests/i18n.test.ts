import { describe, expect, it } from "vitest";
import { getLang, setLang, t, tables } from "../src/i18n";
import type { FamilyInfo } from "../src/families";
import fixture from "../src/fixtures/families.json";

describe("i18n", () => {
  it("every en key has a non-empty ja translation and no extras", () => {
    const en = Object.keys(tables.en).sort();
    const ja = Object.keys(tables.ja).sort();
    expect(ja).toEqual(en);
    for (const k of en) expect(tables.ja[k].trim(), k).not.toBe("");
  });

  it("placeholders match between languages", () => {
    const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const k of Object.keys(tables.en)) expect(ph(tables.ja[k]), k).toEqual(ph(tables.en[k]));
  });

  it("translates the Monitor nav label", () => {
    setLang("en");
    expect(t("nav.monitor")).toBe("Monitor");
    setLang("ja");
    expect(getLang()).toBe("ja");
    expect(t("nav.monitor")).toBe("モニター");
    expect(t("age.s", { n: 5 })).toBe("5秒前");
    setLang("en");
  });

  it("every key used with t(\"...\") in the sources exists", () => {
    const sources = import.meta.glob("../src/**/*.ts", { query: "?raw", import: "default", eager: true }) as Record<string, string>;
    expect(Object.keys(sources).length).toBeGreaterThan(5);
    for (const [f, src] of Object.entries(sources)) {
      for (const m of src.matchAll(/\bt\("([\w.-]+)"/g)) expect(tables.en, `${f}: ${m[1]}`).toHaveProperty([m[1]]);
    }
  });

  it("dynamic keys for states, kinds, families and specials exist", () => {
    for (const s of ["connecting", "connected", "reconnecting", "error", "stopped"]) expect(tables.en).toHaveProperty([`state.${s}`]);
    for (const s of ["no-data", "over-range", "under-range", "burn-out", "invalid"]) expect(tables.en).toHaveProperty([`special.${s}`]);
    for (const s of ["hioki-logger", "hioki-power", "scpi", "modbus"]) expect(tables.en).toHaveProperty([`inst.family.${s}`]);
    for (const s of ["1h", "6h", "1d", "1w", "all"]) expect(tables.en).toHaveProperty([`viewer.range.${s}`]);
  });

  it("dynamic keys of the alarm screens exist in both languages", () => {
    const keys = [
      ...["critical", "high", "medium", "low"].map((s) => `sev.${s}`),
      ...["active", "returned", "unacked", "acked", "shelved", "oos"].map((s) => `alarms.st.${s}`),
      ...["15m", "1h", "8h", "24h", "custom"].map((s) => `alarms.shelve.${s}`),
      ...["threshold", "connection", "special", "storage"].map((s) => `rules.kind.${s}`),
      ...[">", ">=", "<=", "<", "outside_incl", "outside_excl"].map((s) => `rules.op.${s}`),
      ...["and", "or"].map((s) => `rules.combine.${s}`),
      ...["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map((s) => `day.${s}`),
      ...["raise", "return", "ack", "shelve", "unshelve", "out_of_service", "in_service", "reminder", "notify_ok", "notify_failed", "notify_retry"].map((s) => `journal.action.${s}`),
      ...["24h", "7d", "all"].map((s) => `journal.range.${s}`),
      ...["desktop", "email", "webhook"].map((s) => `dest.kind.${s}`),
      ...["tls", "starttls", "none"].map((s) => `dest.security.${s}`),
      ...["slack", "teams", "json"].map((s) => `dest.format.${s}`),
      ...["alarms", "journal", "notifications", "rules", "calcs", "destinations"].map((s) => `nav.${s}`),
      "notes.kind.alarm",
      "notes.kind.system",
    ];
    for (const k of keys) {
      expect(tables.en, k).toHaveProperty([k]);
      expect(tables.ja, k).toHaveProperty([k]);
    }
    setLang("ja");
    expect(t("sev.critical")).toBe("緊急");
    expect(t("alarms.st.shelvedUntil", { t: "12:00" })).toBe("12:00 まで保留");
    setLang("en");
  });

  it("every family's name and field labels (the registry's keys, as the families fixture has them) exist in both languages", () => {
    const families = fixture as FamilyInfo[];
    expect(families.length).toBeGreaterThan(0);
    for (const f of families) {
      const keys = [f.nameKey, ...f.instrumentFields.map((x) => x.labelKey), ...f.channelFields.map((x) => x.labelKey)];
      for (const k of keys) {
        expect(tables.en, `${f.id}: ${k}`).toHaveProperty([k]);
        expect(tables.ja, `${f.id}: ${k}`).toHaveProperty([k]);
      }
    }
  });
});
