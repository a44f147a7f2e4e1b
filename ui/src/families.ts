// The instrument families as the backend's registry declares them (the
// `families` command): the Instruments screen builds its family list, the
// form's family fields and the channel table's columns from these. No
// family is named in the UI's code; labels are translation keys.
import { api, type ChannelConfig, type InstrumentConfig } from "./api";
import type { FamilyInfo, FieldSpec } from "./bindings";
import { tDyn } from "./i18n";

export type { FamilyInfo, FieldKind, FieldSpec, TransportKind } from "./bindings";

let cache: Promise<FamilyInfo[]> | null = null;
let known: FamilyInfo[] = [];

/** The families, asked of the backend once (a failed request is retried next time). */
export function loadFamilies(): Promise<FamilyInfo[]> {
  cache ??= api.families().then(
    (list) => (known = list),
    (e: unknown) => {
      cache = null;
      throw e;
    },
  );
  return cache;
}

/** The families loaded so far (empty before `loadFamilies` resolved). */
export function families(): FamilyInfo[] {
  return known;
}

export function familyOf(id: string): FamilyInfo | undefined {
  return known.find((f) => f.id === id);
}

/** The family's translated name; its id while the families are unknown. */
export function familyLabel(id: string): string {
  const f = familyOf(id);
  return f ? tDyn(f.nameKey, id) : id;
}

export function fieldLabel(f: FieldSpec): string {
  return tDyn(f.labelKey, f.key);
}

/** Every family's discovery ports, each once. */
export function discoveryPorts(list: FamilyInfo[]): number[] {
  return [...new Set(list.flatMap((f) => f.discoveryPorts))];
}

/** The family a found address most likely is, when discovery could not say. */
export function familyForPort(list: FamilyInfo[], port: number | null): FamilyInfo | undefined {
  return port === null ? undefined : list.find((f) => f.discoveryPorts.includes(port));
}

type Obj = Record<string, unknown>;

export function getPath(o: unknown, key: string): unknown {
  return key.split(".").reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Obj)[k] : undefined), o);
}

/** Sets `key` (a dotted path) in `o`; `undefined` removes it, and an emptied parent with it. */
export function setPath(o: Obj, key: string, value: unknown): void {
  const parts = key.split(".");
  const last = parts.pop()!;
  const parents: [Obj, string][] = [];
  let cur = o;
  for (const p of parts) {
    if (!cur[p] || typeof cur[p] !== "object") {
      if (value === undefined) return;
      cur[p] = {};
    }
    parents.push([cur, p]);
    cur = cur[p] as Obj;
  }
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  for (const [parent, p] of parents.reverse()) {
    const child = parent[p] as Obj;
    if (Object.keys(child).length === 0) delete parent[p];
  }
}

/**
 * What the user typed for a field, as the config's JSON wants it: numbers
 * for numeric fields when the text is one (anything else is passed on for
 * the backend to refuse by name), `undefined` for an empty entry.
 */
export function fieldValue(f: FieldSpec, text: string): unknown {
  const v = text.trim();
  if (v === "") return undefined;
  if (f.kind.type === "integer" || f.kind.type === "number") {
    const n = Number(v);
    return Number.isFinite(n) ? n : v;
  }
  return v;
}

export function fieldText(value: unknown): string {
  return value === undefined || value === null ? "" : String(value);
}

/** Splits one CSV line (fields may be double-quoted, `""` is a quote). */
export function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur.trim() === "") {
      quoted = true;
      cur = "";
    } else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function csvField(s: string): string {
  return /[",]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The channel table's text: one line per channel, the family's channel
 * fields as columns in their order (trailing empty ones left out).
 */
export function channelsText(fam: FamilyInfo, channels: ChannelConfig[] | undefined): string {
  return (channels ?? [])
    .map((c) => {
      const cols = fam.channelFields.map((f) => csvField(fieldText(getPath(c, f.key))));
      while (cols.length > 1 && cols[cols.length - 1] === "") cols.pop();
      return cols.join(",");
    })
    .join("\n");
}

/**
 * Channels from the table's text. A line's channel keeps what the previous
 * channel of that id had beyond the family's columns; an empty column is
 * left out, so the backend's default applies.
 */
export function parseChannels(fam: FamilyInfo, text: string, previous: ChannelConfig[]): ChannelConfig[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .map((line) => {
      const cols = splitCsv(line);
      const id = (cols[0] ?? "").trim();
      const prev = previous.find((c) => c.id === id);
      const c = structuredClone(prev ?? { id }) as ChannelConfig & Obj;
      fam.channelFields.forEach((f, k) => setPath(c, f.key, fieldValue(f, cols[k] ?? "")));
      c.id = id;
      return c;
    });
}

/** Sets the family's instrument fields from the form's entries (empty: left out). */
export function applyInstrumentFields(fam: FamilyInfo, cfg: InstrumentConfig, entries: Map<string, string>): void {
  for (const f of fam.instrumentFields) setPath(cfg as unknown as Obj, f.key, fieldValue(f, entries.get(f.key) ?? ""));
}

/** "0..255", "holding | input", "text", with "default 1" when there is one. */
export function fieldHint(f: FieldSpec, words: { text: string; number: string; def: string }): string {
  const k = f.kind;
  const what =
    k.type === "choice" ? k.values.join(" | ") : k.type === "integer" ? `${k.min}..${k.max}` : k.type === "number" ? words.number : words.text;
  return f.default !== null && f.default !== undefined ? `${what}, ${words.def} ${f.default}` : what;
}
