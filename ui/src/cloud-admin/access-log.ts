// The access log (admins): requests and sign-ins, newest first, filtered
// by user, action (text of method and path) and time, a page at a time.
import { clear, h } from "../dom";
import { t } from "../i18n";
import { formatDateTime, parseZoned } from "../time";
import type { AccessEntry, AccessLogQuery, CloudAdminApi } from "./api";
import { errorBox, field, run, section, type AdminSection } from "./common";

export const LOG_PAGE = 50;

export function accessLogSection(api: CloudAdminApi, pageSize = LOG_PAGE): AdminSection {
  let offset = 0;
  let more = false;
  const err = errorBox("admin-log-error");
  const user = h("input", { testid: "admin-log-user", size: 12 });
  const action = h("input", { testid: "admin-log-action", size: 16, placeholder: "DELETE /users" });
  const from = h("input", { testid: "admin-log-from", type: "datetime-local" });
  const to = h("input", { testid: "admin-log-to", type: "datetime-local" });
  const apply = h("button", { class: "primary", type: "submit", testid: "admin-log-apply" }, t("admin.filter"));
  const form = h("form", { class: "form-grid", testid: "admin-log-filter" }, field(t("admin.user"), user), field(t("admin.action"), action), field(t("admin.from"), from), field(t("admin.to"), to), apply);
  const newer = h("button", { type: "button", testid: "admin-log-newer" }, t("admin.newer"));
  const older = h("button", { type: "button", testid: "admin-log-older" }, t("admin.older"));
  const pageInfo = h("span", { class: "muted", testid: "admin-log-page" });
  const body = h("tbody");
  const empty = h("div", { class: "empty", hidden: true }, t("admin.logEmpty"));

  /** The filters as a query; a time that does not read as one is an error. */
  function query(): AccessLogQuery {
    const time = (input: HTMLInputElement, label: string): number | null => {
      if (!input.value) return null;
      const ms = parseZoned(input.value);
      if (ms === null) throw new Error(t("admin.badTime", { field: label, value: input.value }));
      return ms;
    };
    return {
      user: user.value.trim() || null,
      action: action.value.trim() || null,
      from: time(from, t("admin.from")),
      to: time(to, t("admin.to")),
      offset,
      limit: pageSize,
    };
  }

  function row(e: AccessEntry): HTMLElement {
    return h(
      "tr",
      { testid: "admin-log-row", "data-user": e.user ?? "", "data-method": e.method, "data-path": e.path, "data-status": String(e.status) },
      h("td", { class: "num" }, formatDateTime(e.t_ms)),
      h("td", {}, e.user ?? t("common.none")),
      h("td", {}, e.ip),
      h("td", {}, h("code", {}, `${e.method} ${e.path}`)),
      h("td", { class: `num${e.status >= 400 ? " warn" : ""}` }, String(e.status)),
    );
  }

  async function load(): Promise<void> {
    const page = await api.accessLog(query());
    more = page.more;
    clear(body);
    body.append(...page.entries.map(row));
    empty.hidden = page.entries.length > 0;
    newer.disabled = offset === 0;
    older.disabled = !more;
    pageInfo.textContent = page.entries.length ? t("admin.logRange", { from: offset + 1, to: offset + page.entries.length }) : "";
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    offset = 0;
    void run(err, apply, load);
  });
  newer.addEventListener("click", () => {
    offset = Math.max(0, offset - pageSize);
    void run(err, newer, load);
  });
  older.addEventListener("click", () => {
    if (!more) return;
    offset += pageSize;
    void run(err, older, load);
  });

  const table = h(
    "table",
    { class: "grid", testid: "admin-log" },
    h("thead", {}, h("tr", {}, h("th", {}, t("admin.time")), h("th", {}, t("admin.user")), h("th", {}, t("admin.ip")), h("th", {}, t("admin.action")), h("th", {}, t("admin.status")))),
    body,
  );
  const root = section("admin-log-section", t("admin.accessLog"), form, err, h("div", { class: "toolbar" }, newer, older, pageInfo), table, empty);
  return {
    id: "log",
    root,
    load: () => run(err, null, load).then(() => undefined),
  };
}
