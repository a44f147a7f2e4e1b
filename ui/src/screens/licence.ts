// The Licence screen: the plan in force (verified offline by the backend),
// its expiry and days left, entitlements, each limit with its current use as
// a bar, the account's licence history, "apply a card" for admins, and the
// last verification with its result. Every value comes from the backend.
import { api, errorText, type CloudUsageView, type LicenceHistoryEntry, type LicenceScreen } from "../api";
import { clear, h, showError } from "../dom";
import { t, tDyn, type Key } from "../i18n";
import { type Screen } from "../state";
import { formatDateTime } from "../time";

/** The banner text for a screen's banner, or null. */
export function bannerText(s: LicenceScreen): string | null {
  const v = s.licence;
  switch (s.banner) {
    case "expiring":
      return t("licence.banner.expiring", { days: v.days_left ?? 0, date: v.expires === null ? "" : formatDateTime(v.expires) });
    case "expired":
      return t("licence.banner.expired");
    case "unverified":
      return t("licence.banner.unverified", { reason: v.problem ?? v.last_check?.message ?? "" });
    default:
      return null;
  }
}

export function planName(p: string): string {
  return tDyn(`licence.plan.${p}`, p);
}

export function licenceScreen(onChanged: (s: LicenceScreen) => void): Screen {
  const summary = h("div", { class: "panel", testid: "licence-summary" });
  const usage = h("div", { class: "panel", testid: "licence-usage" });
  const cloudUsage = h("div", { class: "panel", testid: "licence-cloud-usage", hidden: true });
  const checks = h("div", { class: "panel", testid: "licence-checks" });
  const history = h("div", { class: "panel", testid: "licence-history" });
  const err = h("div", { class: "error", testid: "licence-error", hidden: true });
  const card = h("input", { testid: "licence-card", placeholder: t("licence.cardHint"), size: 28 });
  const cardErr = h("div", { class: "error", testid: "licence-card-error", hidden: true });
  const cardOk = h("span", { class: "ok", testid: "licence-card-ok", hidden: true }, t("licence.cardApplied"));
  const apply = h("button", { testid: "licence-apply-card" }, t("licence.applyCard"));
  const fetchBtn = h("button", { testid: "licence-fetch" }, t("licence.fetch"));

  function kv(label: string, value: Node | string, testid?: string): HTMLElement {
    return h("div", { class: "kv", testid }, h("span", { class: "muted" }, label), h("b", {}, value));
  }

  function paint(s: LicenceScreen): void {
    const v = s.licence;
    clear(summary);
    // The banner itself is the window's, under the top bar.
    summary.append(
      h(
        "div",
        { class: "kv-row" },
        kv(t("licence.plan"), planName(v.plan), "licence-plan"),
        kv(t("licence.licensed"), v.licensed_plan ? planName(v.licensed_plan) : t("licence.none"), "licence-licensed"),
        kv(t("licence.serial"), v.serial ?? t("common.none"), "licence-serial"),
        kv(t("licence.account"), v.account ?? t("common.none")),
        kv(t("licence.expires"), v.expires === null ? t("licence.noExpiry") : formatDateTime(v.expires), "licence-expires"),
        kv(t("licence.daysLeft"), v.days_left === null ? t("common.none") : String(Math.max(0, v.days_left)), "licence-days-left"),
      ),
    );
    const ent: string[] = [];
    if (v.limits.web_api) ent.push(t("licence.ent.webApi"));
    if (v.limits.ip_restriction) ent.push(t("licence.ent.ipRestriction"));
    if (v.limits.csv_import) ent.push(t("licence.ent.csvImport"));
    summary.append(kv(t("licence.entitlements"), ent.length ? ent.join(", ") : t("licence.ent.none"), "licence-entitlements"));
    if (v.gateway) {
      summary.append(
        kv(
          t("licence.gateway"),
          t("licence.gatewayValue", { plan: v.gateway.plan === "pro" ? "Remote Pro" : "Remote Basic", date: formatDateTime(v.gateway.expires), gb: (v.gateway.limits.traffic_bytes_per_month / 1e9).toFixed(0) }),
          "licence-gateway",
        ),
      );
    }
    if (v.problem) summary.append(h("div", { class: "error", testid: "licence-problem" }, v.problem));

    clear(usage);
    usage.append(h("h3", {}, t("licence.limits")));
    for (const u of s.usage) {
      const pct = u.max > 0 ? Math.min(100, (u.used / u.max) * 100) : 100;
      const full = u.used >= u.max;
      usage.append(
        h(
          "div",
          { class: "limit-row", testid: `licence-limit-${u.limit}` },
          h("span", { class: "limit-name" }, tDyn(`licence.limit.${u.limit}`, u.limit)),
          h("span", { class: `limit-bar${full ? " full" : ""}` }, h("span", { class: "limit-fill", style: `width:${pct.toFixed(0)}%` })),
          h("span", { class: "num limit-count" }, `${u.used} / ${u.max}`),
          h("small", { class: "muted" }, planName(u.plan.toLowerCase().replace("remote ", "remote-"))),
        ),
      );
    }

    clear(checks);
    checks.append(h("h3", {}, t("licence.checks")));
    const last = v.last_check;
    checks.append(
      kv(
        t("licence.lastCheck"),
        last ? `${formatDateTime(last.t)} · ${last.ok ? t("licence.ok") : t("licence.refused")}` : t("licence.never"),
        "licence-last-check",
      ),
    );
    for (const c of v.checks.slice(0, 8)) {
      checks.append(h("div", { class: c.ok ? "muted" : "warn" }, `${formatDateTime(c.t)} · ${tDyn(`licence.source.${c.source}`, c.source)} · ${c.message}`));
    }
  }

  /** The cloud's account-wide limits, when signed in (hidden otherwise). */
  function paintCloud(v: CloudUsageView | null, e: string | null): void {
    clear(cloudUsage);
    cloudUsage.hidden = !v && !e;
    if (cloudUsage.hidden) return;
    cloudUsage.append(h("h3", {}, v ? t("licence.cloudLimits", { account: v.account, plan: planName(v.plan) }) : t("licence.cloudLimitsTitle")));
    if (e) {
      cloudUsage.append(h("div", { class: "muted" }, e));
      return;
    }
    for (const u of v?.limits ?? []) {
      cloudUsage.append(
        h(
          "div",
          { class: "limit-row cloud", testid: `licence-cloud-${u.limit}`, "data-used": String(u.used), "data-max": String(u.max) },
          h("span", { class: "limit-name" }, tDyn(`licence.cloud.${u.limit}`, u.limit)),
          h("span", { class: `limit-bar${u.full ? " full" : ""}` }, h("span", { class: "limit-fill", style: `width:${u.percent.toFixed(0)}%` })),
          h("span", { class: "num limit-count" }, u.text),
        ),
      );
    }
  }

  function paintHistory(list: LicenceHistoryEntry[] | null, e: string | null): void {
    clear(history);
    history.append(h("h3", {}, t("licence.history")));
    if (e) {
      history.append(h("div", { class: "muted" }, e));
      return;
    }
    if (!list || !list.length) {
      history.append(h("div", { class: "muted" }, t("licence.noHistory")));
      return;
    }
    const rows = list.map((x) => h("tr", {}, h("td", {}, x.at), h("td", {}, x.what), h("td", {}, x.by ?? ""), h("td", {}, x.detail ?? "")));
    history.append(h("table", { class: "grid" }, h("tbody", {}, ...rows)));
  }

  async function load(fetchFirst: boolean): Promise<void> {
    showError(err, null);
    try {
      const s = fetchFirst ? await api.licenceFetch().catch(() => api.licenceShow()) : await api.licenceShow();
      paint(s);
      onChanged(s);
    } catch (e) {
      showError(err, errorText(e));
    }
    try {
      paintCloud(await api.licenceCloudUsage(), null);
    } catch (e) {
      paintCloud(null, errorText(e));
    }
    try {
      paintHistory(await api.licenceHistory(), null);
    } catch (e) {
      paintHistory(null, errorText(e));
    }
  }

  fetchBtn.addEventListener("click", async () => {
    showError(err, null);
    try {
      const s = await api.licenceFetch();
      paint(s);
      onChanged(s);
    } catch (e) {
      showError(err, errorText(e));
      void load(false);
    }
  });
  apply.addEventListener("click", async () => {
    showError(cardErr, null);
    cardOk.hidden = true;
    try {
      const s = await api.licenceApplyCard(card.value.trim());
      card.value = "";
      cardOk.hidden = false;
      paint(s);
      onChanged(s);
      void load(false);
    } catch (e) {
      showError(cardErr, errorText(e));
    }
  });

  const root = h(
    "section",
    { class: "screen licence", testid: "screen-licence" },
    h("div", { class: "toolbar" }, h("h2", {}, t("licence.title")), h("span", { class: "spacer" }), fetchBtn),
    err,
    summary,
    usage,
    cloudUsage,
    h("div", { class: "panel" }, h("h3", {}, t("licence.cardTitle")), h("div", { class: "row" }, card, apply, cardOk), h("small", { class: "muted" }, t("licence.cardAdmins")), cardErr),
    checks,
    history,
  );
  return { root, show: () => void load(false) };
}

export type { Key };
