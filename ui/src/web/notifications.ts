// The portal's Notifications screen: what the cloud mails and to whom
// (GET /api/v1/notifications). The desktop's notification screens are the
// agent's own (its alarm notes and destinations) and have no cloud side, so
// this one is the portal's: the account's notices (traffic, expiry,
// capacity, deletions) go to the admins with an email address; codes,
// reset links and invitations to the user concerned. Only what the API
// answers is shown; nothing is derived here.
import { errorText } from "../api";
import { clear, h, showError } from "../dom";
import { t, tDyn } from "../i18n";
import type { Screen } from "../state";
import { formatDateTime } from "../time";
import { apiFetch } from "./http";

/** `GET /api/v1/notifications`. */
export interface NoticesReply {
  mail: boolean;
  recipients: { user: string; name: string; email: string | null }[];
  admins_without_email: string[];
  own_email: string;
  receives_account_notices: boolean;
  kinds: { kind: string; to: string }[];
  recent: { at: number; what: string; by: string; detail: string }[];
}

export function noticesScreen(load: () => Promise<NoticesReply> = () => apiFetch("GET", "/notifications")): Screen {
  const err = h("div", { class: "error", testid: "notices-error", hidden: true });
  const body = h("div", { class: "notices-body" });
  const root = h(
    "section",
    { class: "screen notices", testid: "screen-notifications" },
    h("div", { class: "toolbar" }, h("h2", {}, t("notices.title"))),
    h("p", { class: "muted" }, t("notices.hint")),
    err,
    body,
  );

  function panel(title: string, ...children: (Node | null)[]): HTMLElement {
    return h("div", { class: "panel" }, h("h3", {}, title), ...children);
  }

  function paint(r: NoticesReply): void {
    clear(body);
    const mail = h("div", { class: r.mail ? "ok" : "warn", testid: "notices-mail", "data-mail": String(r.mail) }, r.mail ? t("notices.mailOn") : t("notices.mailOff"));
    const recipients = r.recipients.length
      ? h(
          "table",
          { class: "grid", testid: "notices-recipients" },
          h("thead", {}, h("tr", {}, h("th", {}, t("admin.userId")), h("th", {}, t("admin.name")), h("th", {}, t("admin.email")))),
          h("tbody", {}, ...r.recipients.map((x) => h("tr", { testid: "notices-recipient", "data-user": x.user }, h("td", {}, x.user), h("td", {}, x.name), h("td", {}, x.email ?? t("notices.hidden"))))),
        )
      : h("div", { class: "warn", testid: "notices-no-recipient" }, t("notices.noRecipient"));
    const without = r.admins_without_email.length
      ? h("div", { class: "warn", testid: "notices-admins-without-email" }, t("notices.adminsWithoutEmail", { users: r.admins_without_email.join(", ") }))
      : null;
    const own = h(
      "div",
      { testid: "notices-own", "data-receives": String(r.receives_account_notices) },
      r.own_email ? t("notices.ownEmail", { email: r.own_email }) : t("notices.ownNoEmail"),
      " ",
      h("span", { class: "muted" }, r.receives_account_notices ? t("notices.youReceive") : t("notices.youDoNotReceive")),
    );
    const kinds = h(
      "table",
      { class: "grid", testid: "notices-kinds" },
      h("thead", {}, h("tr", {}, h("th", {}, t("notices.kind")), h("th", {}, t("notices.to")))),
      h("tbody", {}, ...r.kinds.map((k) => h("tr", { testid: "notices-kind", "data-kind": k.kind }, h("td", {}, tDyn(`notices.kind.${k.kind}`, k.kind)), h("td", {}, tDyn(`notices.to.${k.to}`, k.to))))),
    );
    const recent = r.recent.length
      ? h(
          "table",
          { class: "grid", testid: "notices-recent" },
          h("tbody", {}, ...r.recent.map((e) => h("tr", { testid: "notices-recent-row" }, h("td", { class: "num" }, formatDateTime(e.at)), h("td", {}, tDyn(`notices.what.${e.what}`, e.what)), h("td", {}, e.detail)))),
        )
      : h("div", { class: "muted", testid: "notices-none-sent" }, t("notices.noneSent"));
    body.append(
      panel(t("notices.mailTitle"), mail, own),
      panel(t("notices.recipientsTitle"), recipients, without),
      panel(t("notices.kindsTitle"), kinds),
      panel(t("notices.recentTitle"), recent),
    );
  }

  return {
    root,
    show() {
      showError(err, null);
      load().then(paint, (e: unknown) => showError(err, errorText(e)));
    },
  };
}
