// Shared application state and tiny pub/sub for live data.
import type { AlarmView, AppState, ConnState, InstrumentView, LatestView, LiveEvent, Note } from "./api";
import { mergeAlarms, upsertAlarm } from "./alarmfmt";
import { tText, type KeyedText } from "./i18n";

export interface Screen {
  root: HTMLElement;
  /** Called each time the screen becomes visible. */
  show(): void;
  /** Called when it is hidden. */
  hide?(): void;
  /** Every live event, whether visible or not. */
  onLive?(e: LiveEvent): void;
  /** Called every second while visible. */
  tick?(): void;
  /** Every `notification` event, whether visible or not. */
  onNote?(n: Note): void;
}

export const app = {
  state: null as AppState | null,
  instruments: [] as InstrumentView[],
  listeners: new Set<() => void>(),
  /** Current alarms in the contract's order, kept up to date from the `alarm` event. */
  alarms: [] as AlarmView[],
  alarmListeners: new Set<() => void>(),
  /** Unread notifications (backend's count). */
  unread: 0,
  unreadListeners: new Set<() => void>(),
  /** The latest values that came with the start (issue 17): the Monitor's
   * first paint uses them instead of asking again; taken once. */
  startLatest: null as LatestView[] | null,
};

export function alarmsChanged(list: AlarmView[]): void {
  app.alarms = mergeAlarms(app.alarms, list);
  for (const l of app.alarmListeners) l();
}

export function alarmChanged(a: AlarmView): void {
  app.alarms = upsertAlarm(app.alarms, a);
  for (const l of app.alarmListeners) l();
}

export function unreadChanged(n: number): void {
  app.unread = n;
  for (const l of app.unreadListeners) l();
}

export function instrumentsChanged(list: InstrumentView[]): void {
  app.instruments = list;
  for (const l of app.listeners) l();
}

export function setInstrumentState(id: string, state: ConnState, reason: string | null, reasonText?: KeyedText): boolean {
  const v = app.instruments.find((i) => i.config.id === id);
  if (!v) return false;
  if (v.state === state && v.reason === reason) return true;
  v.state = state;
  v.reason = reason;
  v.reasonText = reasonText as InstrumentView["reasonText"];
  for (const l of app.listeners) l();
  return true;
}

/** Why an instrument is in its state, in the window's language. */
export function reasonOf(v: InstrumentView): string {
  return v.reasonText ? tText(v.reasonText) : (v.reason ?? "");
}

export function stateDot(state: string): HTMLSpanElement {
  const s = document.createElement("span");
  s.className = `dot dot-${state}`;
  return s;
}
