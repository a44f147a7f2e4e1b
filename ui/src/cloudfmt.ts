// Display of the cloud figures the backend computed (sizes, traffic, labels).
// No rules here: the warning level and the shares come from core/cloudlink.
import type { CloudAgent, CloudChannel, LocalSyncView } from "./api";
import { t } from "./i18n";

const UNITS = ["B", "kB", "MB", "GB", "TB"];

/** 1234567 → "1.23 MB" (powers of 1000, as traffic allowances are sold). */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return t("common.none");
  let v = Math.max(0, n);
  let k = 0;
  while (v >= 1000 && k < UNITS.length - 1) {
    v /= 1000;
    k++;
  }
  return k === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${UNITS[k]}`;
}

/** "950 B / 1.00 kB (95 %)", or just the used bytes without an allowance. */
export function trafficText(used: number, allowance: number | null, percent: number | null): string {
  if (!allowance || percent === null) return formatBytes(used);
  return `${formatBytes(used)} / ${formatBytes(allowance)} (${Math.floor(percent)} %)`;
}

export function agentTraffic(a: CloudAgent): string {
  return trafficText(a.traffic_month_bytes, a.traffic_allowance, a.traffic_percent);
}

/** This agent's traffic; `traffic_percent` comes with the sync status. */
export function localTraffic(s: Omit<LocalSyncView, "traffic_percent" | "traffic_warning"> & { traffic_percent?: number | null }): string {
  return trafficText(s.month_bytes, s.allowance_bytes || null, s.traffic_percent ?? null);
}

/** "12" or "—" when the cloud does not know the agent's backlog. */
export function backlogText(n: number | null | undefined): string {
  return n === null || n === undefined ? t("common.none") : String(n);
}

/** What the Viewer keeps of a cloud channel it overlays. */
export interface OverlayChannel {
  id: string;
  /** `account/agent · path`, and its two parts for narrow places. */
  label: string;
  site: string;
  path: string;
  unit: string;
  tFirst: number | null;
  tLast: number | null;
}

export function toOverlay(c: CloudChannel): OverlayChannel {
  return { id: c.id, label: c.label, site: c.site, path: c.path, unit: c.unit ?? "", tFirst: c.t_first, tLast: c.t_last };
}
