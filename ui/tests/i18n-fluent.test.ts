// The Fluent loader behind t()/tDyn(): the shared files parse, every key the
// sources use resolves in every language, and ids map back to keys.
import { describe, expect, it } from "vitest";
import { LANGS, bundle, fluentId, keyOf, messageIds, parseErrors, setLang, t, tDyn, tables } from "../src/i18n";

const sources = import.meta.glob("../src/**/*.ts", { query: "?raw", import: "default", eager: true }) as Record<string, string>;

describe("i18n (Fluent files)", () => {
  it("every language's ui.ftl parses without errors and has the same ids", () => {
    const en = messageIds("en");
    expect(en.length).toBeGreaterThan(800);
    for (const l of LANGS) {
      bundle(l);
      expect(parseErrors[l], l).toEqual([]);
      expect([...messageIds(l)].sort(), l).toEqual([...en].sort());
      expect(new Set(messageIds(l)).size, `${l}: an id is defined twice`).toBe(messageIds(l).length);
    }
  });

  it("ids map back to their keys (no two keys share an id)", () => {
    for (const id of messageIds("en")) expect(fluentId(keyOf(id)), id).toBe(id);
    expect(fluentId("special.no-data")).toBe("special-no_data");
    expect(fluentId("rules.op.>=")).toBe("rules-op-_gt_eq");
    expect(keyOf("journal-action-out__of__service")).toBe("journal.action.out_of_service");
  });

  it("every key the sources use with t(\"...\") or tDyn(\"...\") resolves in every language", () => {
    let used = 0;
    for (const [f, src] of Object.entries(sources)) {
      for (const m of src.matchAll(/\b(?:t|tDyn)\("([^"]+)"/g)) {
        used++;
        for (const l of LANGS) expect(bundle(l).hasMessage(fluentId(m[1])), `${f}: ${m[1]} in ${l}`).toBe(true);
      }
    }
    expect(used).toBeGreaterThan(500);
  });

  it("placeholders match English in every language", () => {
    const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const l of LANGS) for (const k of Object.keys(tables.en)) expect(ph(tables[l][k]), `${l}: ${k}`).toEqual(ph(tables.en[k]));
  });

  it("German: words, placeholders as given (no digit grouping, no isolation marks), fallbacks", () => {
    setLang("de");
    expect(t("nav.settings")).toBe("Einstellungen");
    expect(t("age.s", { n: 1234 })).toBe("vor 1234 s");
    expect(t("inst.removed", { id: "dmm-1" })).toBe("Messgerät dmm-1 entfernt. Seine gespeicherten Daten bleiben erhalten.");
    expect(tDyn("state.connected", "x")).toBe("verbunden");
    expect(tDyn("state.nonsense", "raw")).toBe("raw");
    expect(t("no.such.key")).toBe("no.such.key");
    setLang("fr");
    expect(t("nav.settings")).toBe("Settings");
    setLang("en");
    expect(t("age.s", { n: 1234 })).toBe("1234s ago");
  });
});
