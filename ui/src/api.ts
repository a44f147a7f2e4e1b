// Typed wrappers over the Tauri commands and events of the desktop contract.
// Every shape comes from ./bindings, generated from the Rust types (see
// src-tauri/src/contract; regenerate with scripts/gen-bindings, never edit
// there). This file holds the typed `call`, the positional wrappers the
// screens use, the UI's names for a few contract types, and helpers. The UI
// holds no business rules: it passes what the user entered and shows what the
// backend returns (including its error messages).
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type {
  Action,
  AgentSync,
  Text,
  AgentView,
  AlarmRule,
  AlarmView,
  CalcConfig,
  CloudChannelView,
  Commands,
  ConnState,
  DestinationConfig,
  EventRecord,
  Events,
  ExportView,
  InstrumentStateEvent,
  JournalQueryArgs,
  LiveEvent as LivePayload,
  Me,
  Note,
  Op,
  Panel,
  RuleKind,
  RunView,
  SavedTemplate,
  Schedule,
  Second,
  SectionError,
  StorageMeter,
  WindowSpec,
} from "./bindings";

export type {
  Board,
  Dashboards,
  GraphWindow,
  Panel,
  PanelKind,
  Placement,
  AckInfo,
  Action,
  AgentSync,
  AgentView,
  AlarmRule,
  AlarmView,
  AppState,
  CalcConfig,
  ChannelConfig,
  ChannelRecord,
  CloudChannelView,
  CloudSeries,
  CloudStatus,
  Combine,
  Commands,
  ConnState,
  DestinationConfig,
  DestinationKind,
  DestinationView,
  EventRecord,
  Events,
  ExportProgress,
  ExportView,
  Found,
  IdentifyView,
  Identity,
  InstrumentConfig,
  InstrumentStateEvent,
  InstrumentView,
  JournalEntry,
  LatestView,
  LicenceHistoryEntry,
  CloudUsageView,
  LicenceScreen,
  LicenceView,
  LimitUse,
  LiveReading,
  LocalSyncView,
  Me,
  ModbusRegister,
  Note,
  Op,
  RuleKind,
  Second,
  SectionError,
  SerialPortInfo,
  SeriesView,
  Severity,
  SpecialKind,
  TableView,
  TimeRange,
  TransportConfig,
  UiSettings,
  WindowSpec,
} from "./bindings";

// Bluetooth LE (issue 14)
export type { BleFound } from "./bindings";
// Instrument control (issue 14)
export type { ControlOutcome, Profile, SettingDiff } from "./bindings";
// Measurement files (issue 14)
export type { CloudFile, FileProgress, LocalFileStatus, LocalFileView } from "./bindings";

// The UI's names for contract types.
export type Rule = AlarmRule;
export type SecondCondition = Second;
export type TimeWindow = WindowSpec;
export type AlarmKind = RuleKind;
export type CompareOp = Op;
export type JournalAction = Action;
export type JournalQuery = JournalQueryArgs;
export type Calc = CalcConfig;
export type ReportRun = RunView;
export type ReportSchedule = Schedule;
export type { RangeKind, SavedTemplate } from "./bindings";
export type Destination = DestinationConfig;
export type ExportSummary = ExportView;
export type CloudMe = Me;
export type CloudAgentSync = AgentSync;
export type CloudAgent = AgentView;
export type CloudChannel = CloudChannelView;
export type CloudStorage = StorageMeter;

/** The window's languages and themes (the translation tables and style sheet have these). */
export type Lang = "en" | "ja" | "de";
export type Theme = "light" | "dark";
/** A registered family's id; the list comes from the `families` command (see families.ts). */
export type Family = string;
/** Day names of an alarm rule's time window, in the form's order. */
export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";

/** A refusal as the UI shows it: the backend's `SectionError`, or a plain
 * message that names no field. */
export type FieldError = Omit<SectionError, "field" | "position"> & { field: string | null; position?: number | null };

/** Optional command arguments are left out rather than sent empty. */
export function compact<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === null || v === "") continue;
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

// ---- commands -------------------------------------------------------------

type Command = keyof Commands;
type ArgsOf<K extends Command> = Commands[K]["args"];
export type ResultOf<K extends Command> = Commands[K]["result"];

/** Invokes a command of the contract with its arguments (left out when it takes
 * none). The one place that knows the transport: the browser's Web API back
 * end (issue 15) can answer the same `Commands` here. */
export function call<K extends Command>(
  cmd: K,
  ...args: {} extends ArgsOf<K> ? [ArgsOf<K>?] : [ArgsOf<K>]
): Promise<ResultOf<K>> {
  if (transport) return transport(cmd, args[0]) as Promise<ResultOf<K>>;
  return invoke<ResultOf<K>>(cmd, args[0]);
}

// ---- the web portal's back end (issue 15) ----------------------------------
/** Answers commands instead of Tauri: set once at start by the web portal
 * (src/web/backend.ts, over the cloud's REST API); unset in the desktop app. */
export type Transport = (cmd: Command, args: unknown) => Promise<unknown>;
let transport: Transport | null = null;
export function setTransport(t: Transport | null): void {
  transport = t;
}

export const api = {
  appState: () => call("app_state"),
  saveSettings: (settings: ArgsOf<"save_settings">["settings"]) => call("save_settings", { settings }),
  families: () => call("families"),
  listInstruments: () => call("list_instruments"),
  saveInstrument: (config: ArgsOf<"save_instrument">["config"], replaceId: string | null) =>
    call("save_instrument", { config, replaceId }),
  removeInstrument: (id: string) => call("remove_instrument", { id }),
  identify: (id: string) => call("identify", { id }),
  discoverLan: (hosts: string, ports: number[], timeoutMs: number) => call("discover_lan", { hosts, ports, timeoutMs }),
  listSerialPorts: () => call("list_serial_ports"),
  probeSerial: (paths: string[], baud: number) => call("probe_serial", { paths, baud }),
  // Bluetooth LE (issue 14)
  discoverBle: (seconds: number) => call("discover_ble", { seconds }),
  // Instrument control (issue 14): `command` is start, stop, restart or set-clock.
  instrumentControl: (instrument: string, operator: string, command: string) =>
    call("instrument_control", { instrument, operator, command }),
  profilesList: (instrument: string) => call("profiles_list", { instrument }),
  profileSave: (instrument: string, operator: string, name: string) => call("profile_save", { instrument, operator, name }),
  profileDiff: (instrument: string, operator: string, name: string) => call("profile_diff", { instrument, operator, name }),
  profilePush: (instrument: string, operator: string, name: string) => call("profile_push", { instrument, operator, name }),
  setFastMonitor: (id: string, on: boolean) => call("set_fast_monitor", { id, on }),
  // Remote access from the cloud (issue 16): the owner's switch, local only.
  remoteConsents: () => call("remote_consents"),
  remoteConsentSet: (instrument: string, on: boolean) => call("remote_consent_set", { instrument, on }),
  remoteConsoleHolder: (instrument: string) => call("remote_console_holder", { instrument }),
  latest: () => call("latest"),
  channels: () => call("channels"),
  series: (channelIds: number[], from: number, to: number, width: number) =>
    call("series", { channelIds, from, to, width: Math.max(1, Math.round(width)) }),
  seriesExtent: (channelIds: number[]) => call("series_extent", { channelIds }),
  /** The Viewer's series as one binary frame (an ArrayBuffer; read with viewer/frame.ts). */
  seriesFrame: (channelIds: number[], from: number, to: number, width: number) =>
    call("series_frame", { channelIds, from, to, width: Math.max(1, Math.round(width)) }),
  /** What the first screen needs, in one call (issue 17). */
  startView: () => call("start_view"),
  table: (channelIds: number[], from: number, to: number, limit: number) =>
    call("table", { channelIds, from, to, limit }),
  exportData: (channelIds: number[], from: number, to: number, path: string) =>
    call("export", { channelIds, from, to, path }),
  consoleAcquire: (instrument: string, operator: string) => call("console_acquire", { instrument, operator }),
  consoleSend: (instrument: string, operator: string, command: string) =>
    call("console_send", { instrument, operator, command }),
  consoleRelease: (instrument: string, operator: string) => call("console_release", { instrument, operator }),
  events: (instrument: string | null, kind: string | null, limit: number) =>
    call("events", { instrument, kind, limit }),

  alarmsList: () => call("alarms_list"),
  alarmAck: (alarmId: string, user: string, comment: string) => call("alarm_ack", { alarmId, user, comment }),
  alarmShelve: (alarmId: string, minutes: number, user: string, comment: string) =>
    call("alarm_shelve", { alarmId, minutes, user, comment }),
  alarmUnshelve: (alarmId: string, user: string) => call("alarm_unshelve", { alarmId, user }),
  alarmOutOfService: (alarmId: string, on: boolean, user: string, comment: string) =>
    call("alarm_out_of_service", { alarmId, on, user, comment }),

  rulesList: () => call("rules_list"),
  ruleCheck: (rule: Rule) => call("rule_check", { rule }),
  ruleSave: (rule: Rule) => call("rule_save", { rule }),
  ruleDelete: (id: string) => call("rule_delete", { id }),
  ruleSetEnabled: (id: string, enabled: boolean) => call("rule_set_enabled", { id, enabled }),

  calcsList: () => call("calcs_list"),
  calcCheck: (calc: Calc) => call("calc_check", { calc }),
  calcSave: (calc: Calc) => call("calc_save", { calc }),
  calcDelete: (id: string) => call("calc_delete", { id }),

  destinationsList: () => call("destinations_list"),
  /** The secret goes to the keychain; it is sent only when the user typed one. */
  destinationSave: (destination: Destination, secret?: string | null) =>
    call("destination_save", secret ? { destination, secret } : { destination }),
  destinationDelete: (id: string) => call("destination_delete", { id }),
  /** Resolves when the test message went out; rejects with the reason otherwise. */
  destinationTest: (id: string) => call("destination_test", { id }),

  journalQuery: (q: JournalQuery) => call("journal_query", compact(q)),

  notificationsList: (unreadOnly: boolean, limit?: number) =>
    call("notifications_list", limit === undefined ? { unreadOnly } : { unreadOnly, limit }),
  notificationsUnreadCount: () => call("notifications_unread_count"),
  notificationMarkRead: (id: string) => call("notification_mark_read", { id }),
  notificationsMarkAllRead: () => call("notifications_mark_all_read"),

  cloudStatus: () => call("cloud_status"),
  /** The password goes to the backend once; nothing keeps it. */
  cloudSignIn: (url: string, account: string, user: string, password: string) =>
    call("cloud_sign_in", { url, account, user, password }),
  cloudCode: (code: string) => call("cloud_code", { code }),
  cloudChangePassword: (current: string, next: string) => call("cloud_change_password", { current, new: next }),
  cloudSignOut: () => call("cloud_sign_out"),
  cloudAgents: () => call("cloud_agents"),
  cloudChannels: (agent: string) => call("cloud_channels", { agent }),
  cloudSeries: (channel: string, from: number, to: number, buckets: number) =>
    call("cloud_series", { channel, from, to, buckets: Math.max(1, Math.round(buckets)) }),
  /** The account's stored bytes against the plan's capacity, the largest channels. */
  cloudStorage: () => call("cloud_storage"),
  /** A site's alarms as the cloud knows them; acknowledging goes to the agent through the cloud. */
  cloudSiteAlarms: (agent: string) => call("cloud_site_alarms", { agent }),
  cloudAlarmAck: (agent: string, alarm: string, comment: string) => call("cloud_alarm_ack", { agent, alarm, comment }),
  syncStatus: () => call("sync_status"),

  licenceShow: () => call("licence_show"),
  licenceFetch: () => call("licence_fetch"),
  licenceHistory: () => call("licence_history"),
  /** The cloud's account-wide limits and use; null when not signed in. */
  licenceCloudUsage: () => call("licence_cloud_usage"),
  licenceApplyCard: (card: string) => call("licence_apply_card", { card }),

  // Dashboards: each change answers every board as now kept.
  dashboardsList: () => call("dashboards_list"),
  boardCreate: (name: string) => call("board_create", { name }),
  boardRename: (id: number, name: string) => call("board_rename", { id, name }),
  boardReorder: (ids: number[]) => call("board_reorder", { ids }),
  boardDelete: (id: number) => call("board_delete", { id }),
  boardOpen: (id: number) => call("board_open", { id }),
  panelAdd: (board: number, panel: Panel) => call("panel_add", { board, panel }),
  panelUpdate: (board: number, panel: Panel) => call("panel_update", { board, panel }),
  panelRemove: (board: number, panel: number) => call("panel_remove", { board, panel }),
  boardExport: (id: number, path: string) => call("board_export", { id, path }),
  boardImport: (path: string) => call("board_import", { path }),
  dashboardImageImport: (path: string) => call("dashboard_image_import", { path }),
  dashboardImage: (name: string) => call("dashboard_image", { name }),
  // reports (sched)
  reportTemplates: () => call("report_templates"),
  reportTemplateSave: (saved: SavedTemplate, replace: string | null) =>
    call("report_template_save", replace ? { saved, replace } : { saved }),
  reportTemplateDelete: (name: string) => call("report_template_delete", { name }),
  reportRuns: () => call("report_runs"),
  reportGenerate: (name: string) => call("report_generate", { name }),
  reportOpen: (run: number) => call("report_open", { run }),
  reportSaveAs: (run: number, path: string) => call("report_save_as", { run, path }),
  // measurement files (issue 14)
  filesLocal: (instrument: string | null) => call("files_local", compact({ instrument: instrument ?? undefined })),
  filesFetch: (instrument: string, name: string) => call("files_fetch", { instrument, name }),
  filesUpload: (id: number) => call("files_upload", { id }),
  filesOpenFolder: (instrument: string | null) => call("files_open_folder", compact({ instrument: instrument ?? undefined })),
  cloudFiles: (instrument: string | null) => call("cloud_files", compact({ instrument: instrument ?? undefined })),
  cloudFileDownload: (id: string) => call("cloud_file_download", { id }),
};

/** Tauri rejects with the command's `Err(String)`; make it a message. */
export function errorText(e: unknown): string {
  if (typeof e === "string") return e;
  if (e instanceof Error) return e.message;
  if (e && typeof e === "object" && "message" in e) return String((e as { message: unknown }).message);
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}

// ---- events ---------------------------------------------------------------

/** A normalised `live` event: the contract's payload (alarms and
 * notifications have events of their own), or `unknown`. */
export type LiveEvent = Exclude<LivePayload, { type: "alarm" } | { type: "notification" }> | { type: "unknown" };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** A refusal as a field error: `{field, message}` objects (also as JSON text)
 * pass through; anything else becomes a message without a field. */
export function fieldError(e: unknown): FieldError {
  let v: unknown = e;
  if (typeof v === "string" && v.trim().startsWith("{")) {
    try {
      v = JSON.parse(v);
    } catch {
      /* plain text */
    }
  }
  if (isObj(v) && typeof v.message === "string") {
    const position = num(v.position);
    return position === null ? { field: str(v.field), message: v.message } : { field: str(v.field), message: v.message, position };
  }
  return { field: null, message: errorText(e) };
}

/** A channel value as serde writes meterdeck's `Value` (`{"number": 1.5}` /
 * `{"special": "over-range"}`), or already flattened (`value` + `special`). */
export function parseValue(v: Obj): { value: number | null; special: string | null } {
  const raw = v.value;
  if (isObj(raw)) {
    if ("number" in raw) return { value: num(raw.number), special: null };
    if ("Number" in raw) return { value: num(raw.Number), special: null };
    if ("special" in raw) return { value: null, special: str(raw.special) };
    if ("Special" in raw) return { value: null, special: str(raw.Special) };
  }
  return { value: num(raw), special: str(v.special) };
}

/** Accepts the agent's LiveUpdate as serde would write it: internally tagged
 * (`type`/`kind`) or externally tagged (`{"Readings": {...}}`). */
export function parseLive(payload: unknown): LiveEvent {
  if (!isObj(payload)) return { type: "unknown" };
  let tag = str(payload.type) ?? str(payload.kind);
  let body: Obj = payload;
  if (!tag || !["readings", "state", "event", "fast-monitor", "fastmonitor", "fast_monitor"].includes(tag.toLowerCase())) {
    const keys = Object.keys(payload);
    if (keys.length === 1 && isObj(payload[keys[0]])) {
      tag = keys[0];
      body = payload[keys[0]] as Obj;
    }
  }
  const k = (tag ?? "").toLowerCase().replace(/[-_]/g, "");
  switch (k) {
    case "readings": {
      const values = Array.isArray(body.values) ? body.values : Array.isArray(body.readings) ? body.readings : [];
      return {
        type: "readings",
        instrument: str(body.instrument) ?? "",
        t: num(body.t) ?? Date.now(),
        values: values.filter(isObj).map((v) => ({
          channel: str(v.channel) ?? "",
          unit: str(v.unit),
          ...parseValue(v),
        })),
      };
    }
    case "state":
      return {
        type: "state",
        instrument: str(body.instrument) ?? "",
        state: (str(body.state) ?? "error") as ConnState,
        reason: str(body.reason),
        reason_text: keyedText(body.reason_text ?? body.reasonText),
      };
    case "event": {
      const ev = isObj(body.event) ? body.event : body;
      return {
        type: "event",
        event: {
          t: num(ev.t) ?? Date.now(),
          instrument: str(ev.instrument),
          kind: (str(ev.kind) ?? "") as EventRecord["kind"],
          message: str(ev.message) ?? "",
          text: keyedText(ev.text),
        },
      };
    }
    case "fastmonitor":
      return { type: "fast-monitor", instrument: str(body.instrument) ?? "", until: num(body.until) };
    default:
      return { type: "unknown" };
  }
}

/** A translatable text (`{key, args}`) from a payload, or nothing. */
function keyedText(v: unknown): Text | undefined {
  return isObj(v) && typeof v.key === "string" ? (v as unknown as Text) : undefined;
}

export function parseInstrumentState(payload: unknown): InstrumentStateEvent | null {
  const l = parseLive(payload);
  if (l.type === "state") return { instrument: l.instrument, state: l.state, reason: l.reason, reasonText: l.reason_text };
  if (isObj(payload) && str(payload.instrument) && str(payload.state)) {
    return {
      instrument: str(payload.instrument) ?? "",
      state: str(payload.state) as ConnState,
      reason: str(payload.reason),
      reasonText: keyedText(payload.reasonText),
    };
  }
  return null;
}

/** Listens to an event of the contract. The payload is checked before use
 * (a window must survive a payload it does not expect), hence `unknown`. */
function on<K extends keyof Events>(name: K, cb: (payload: unknown) => void): Promise<UnlistenFn> {
  return listen<Events[K]>(name, (e) => cb(e.payload));
}

export const events = {
  live: (cb: (e: LiveEvent) => void): Promise<UnlistenFn> => on("live", (p) => cb(parseLive(p))),
  instrumentState: (cb: (e: InstrumentStateEvent) => void): Promise<UnlistenFn> =>
    on("instrument-state", (p) => {
      const s = parseInstrumentState(p);
      if (s) cb(s);
    }),
  exportProgress: (cb: (p: Events["export-progress"]) => void): Promise<UnlistenFn> =>
    on("export-progress", (p) => cb(p as Events["export-progress"])),
  /** An AlarmView on every change of an alarm. */
  alarm: (cb: (a: AlarmView) => void): Promise<UnlistenFn> =>
    on("alarm", (p) => {
      if (isObj(p) && typeof p.alarm_id === "string") cb(p as unknown as AlarmView);
    }),
  /** Progress of `report_generate`. */
  reportProgress: (cb: (p: Events["report-progress"]) => void): Promise<UnlistenFn> =>
    on("report-progress", (p) => {
      if (isObj(p) && typeof p.done === "number") cb(p as unknown as Events["report-progress"]);
    }),
  /** Progress of a fetch, upload or download of the Files screen. */
  fileProgress: (cb: (p: Events["file-progress"]) => void): Promise<UnlistenFn> =>
    on("file-progress", (p) => {
      if (isObj(p) && typeof p.done === "number") cb(p as unknown as Events["file-progress"]);
    }),
  /** Every new system or alarm notification. */
  notification: (cb: (n: Note) => void): Promise<UnlistenFn> =>
    on("notification", (p) => {
      if (isObj(p) && "id" in p) cb(p as unknown as Note);
    }),
};
