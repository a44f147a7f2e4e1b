// Every visible string lives in the Fluent files locales/<lang>/ui.ftl at the
// repository root, shared with the Rust side (wire/src/i18n.rs reads core.ftl
// and mail.ftl beside them). `t(key, vars)` looks up the current language,
// then English, then shows the key.
//
// Keys keep their dotted form here (`nav.monitor`); Fluent ids cannot hold
// dots, so `fluentId` maps them mechanically (`nav-monitor`), the same rule as
// scripts/i18n-import and wire/src/i18n.rs.
import { FluentBundle, FluentResource } from "@fluent/bundle";
import type { Message, Pattern, PatternElement } from "@fluent/bundle/esm/ast";
import type { Lang } from "./api";
import enUi from "../../locales/en/ui.ftl?raw";
import jaUi from "../../locales/ja/ui.ftl?raw";
import deUi from "../../locales/de/ui.ftl?raw";

/** A translation key, as the screens write it (`section.word`). */
export type Key = string;

export const LANGS: readonly Lang[] = ["en", "ja", "de"];
const sources: Record<Lang, string> = { en: enUi, ja: jaUi, de: deUi };

/** `a.b-c_d>=` -> `a-b_c__d_gt_eq`: `.`->`-`, `-`->`_`, `_`->`__`, `<>=` -> `_lt` `_gt` `_eq`. */
export function fluentId(key: string): string {
  let out = "";
  for (const c of key) {
    if (c === ".") out += "-";
    else if (c === "-") out += "_";
    else if (c === "_") out += "__";
    else if (c === ">") out += "_gt";
    else if (c === "<") out += "_lt";
    else if (c === "=") out += "_eq";
    else out += c;
  }
  return out;
}

/** The inverse of `fluentId`. */
export function keyOf(id: string): string {
  let out = "";
  for (let i = 0; i < id.length; i++) {
    const c = id[i];
    if (c === "-") out += ".";
    else if (c !== "_") out += c;
    else if (id.startsWith("_gt", i)) (out += ">"), (i += 2);
    else if (id.startsWith("_lt", i)) (out += "<"), (i += 2);
    else if (id.startsWith("_eq", i)) (out += "="), (i += 2);
    else if (id[i + 1] === "_") (out += "_"), (i += 1);
    else out += "-";
  }
  return out;
}

const bundles: Partial<Record<Lang, FluentBundle>> = {};
/** Parse errors of each language's file (a test checks there are none). */
export const parseErrors: Partial<Record<Lang, string[]>> = {};

/** The language's bundle, parsed on first use (only the current language and English ever are). */
export function bundle(lang: Lang): FluentBundle {
  let b = bundles[lang];
  if (!b) {
    // No bidi isolation marks around placeholders: the window is left-to-right
    // and tests compare the text.
    b = new FluentBundle(lang, { useIsolating: false });
    const errors = b.addResource(new FluentResource(sources[lang]));
    parseErrors[lang] = errors.map((e) => e.message);
    bundles[lang] = b;
  }
  return b;
}

/** Numbers are passed as text, so 1234 stays "1234" (Fluent would group it as "1,234"). */
function args(vars?: Record<string, string | number>): Record<string, string> | undefined {
  if (!vars) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) out[k] = String(v);
  return out;
}

function lookup(lang: Lang, key: string, vars?: Record<string, string | number>): string | undefined {
  const b = bundle(lang);
  const m = b.getMessage(fluentId(key));
  if (!m?.value) return undefined;
  // Errors (a missing variable) leave `{$name}` in the text rather than throw.
  return b.formatPattern(m.value, args(vars), []);
}

/** The variable names a message uses (`{ $name }`), in order of first use. */
export function variables(m: Message): string[] {
  const names: string[] = [];
  const walk = (p: Pattern | PatternElement): void => {
    if (typeof p === "string") return;
    if (Array.isArray(p)) return p.forEach(walk);
    if (p.type === "var" && !names.includes(p.name)) names.push(p.name);
    if (p.type === "select") {
      walk(p.selector);
      p.variants.forEach((v) => walk(v.value));
    }
    if (p.type === "func" || p.type === "term") p.args.forEach((a) => a.type !== "narg" && walk(a));
  };
  if (m.value) walk(m.value);
  return names;
}

/** Every message of `lang` as key -> text with `{name}` placeholders (the old table form, for tests and tools). */
function table(lang: Lang): Record<string, string> {
  const b = bundle(lang);
  const out: Record<string, string> = {};
  for (const id of messageIds(lang)) {
    const m = b.getMessage(id);
    if (!m?.value) continue;
    const vars = Object.fromEntries(variables(m).map((n) => [n, `{${n}}`]));
    out[keyOf(id)] = b.formatPattern(m.value, vars);
  }
  return out;
}

/** The message ids in `lang`'s file, in file order. */
export function messageIds(lang: Lang): string[] {
  return [...sources[lang].matchAll(/^([A-Za-z][A-Za-z0-9_-]*)[ \t]*=/gm)].map((m) => m[1]);
}

const tableCache: Partial<Record<Lang, Record<string, string>>> = {};
/** Per language, key -> text with `{name}` placeholders; built on first read. */
export const tables = Object.fromEntries(
  LANGS.map((l) => [l, undefined]),
) as unknown as Record<Lang, Record<string, string>>;
for (const l of LANGS) Object.defineProperty(tables, l, { enumerable: true, get: () => (tableCache[l] ??= table(l)) });

let current: Lang = "en";

/** Takes the settings' language code; one without a translation file falls back to English. */
export function setLang(lang: string): void {
  current = (LANGS as readonly string[]).includes(lang) ? (lang as Lang) : "en";
}

export function getLang(): Lang {
  return current;
}

/** The string for `key` in the current language (else English, else the key), with `{name}` placeholders filled. */
export function t(key: Key, vars?: Record<string, string | number>): string {
  return lookup(current, key, vars) ?? (current === "en" ? undefined : lookup("en", key, vars)) ?? key;
}

/** For keys built at run time (states, families, special kinds): falls back to English, then the raw word. */
export function tDyn(key: string, fallback: string): string {
  return lookup(current, key) ?? (current === "en" ? undefined : lookup("en", key)) ?? fallback;
}

/** A message kept as its key and arguments (the Rust side's `Text`: events,
 * instrument errors); an argument may itself be one. */
export interface KeyedText {
  key: string;
  args?: { [name: string]: string | KeyedText | undefined };
}

/** `text` in the current language, nested messages included. */
export function tText(text: KeyedText, depth = 0): string {
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(text.args ?? {})) {
    if (v === undefined) continue;
    vars[k] = typeof v === "string" ? v : depth < 8 ? tText(v, depth + 1) : v.key;
  }
  return t(text.key, vars);
}
