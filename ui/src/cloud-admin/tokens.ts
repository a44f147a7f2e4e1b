// API tokens: the list (own; admins: the account's), a new one shown once
// with a copy button, revoking. Viewers cannot make tokens.
import { clear, h } from "../dom";
import { t } from "../i18n";
import { formatDateTime } from "../time";
import { type AdminMe, type ApiTokenView, type CloudAdminApi, canUseTokens } from "./api";
import { deleteButton, errorBox, field, run, section, shownOnce, type AdminSection } from "./common";

export function tokensSection(api: CloudAdminApi, me: AdminMe): AdminSection {
  let tokens: ApiTokenView[] = [];
  const err = errorBox("admin-tokens-error");
  const secretHost = h("div");
  const body = h("tbody");
  const name = h("input", { testid: "admin-token-name", size: 24, placeholder: t("admin.tokenNameHint") });
  const create = h("button", { class: "primary", type: "submit", testid: "admin-token-create" }, t("admin.tokenCreate"));
  const form = h("form", { class: "form-grid", testid: "admin-token-form" }, field(t("admin.tokenName"), name), create);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void run(err, create, async () => {
      const made = await api.createToken(name.value);
      name.value = "";
      clear(secretHost);
      secretHost.append(shownOnce("admin-token-secret", t("admin.tokenOnce", { name: made.name }), made.token));
      await load();
    });
  });

  function row(tok: ApiTokenView): HTMLElement {
    const del = deleteButton("admin-token-delete", () => void run(err, null, async () => {
      await api.deleteToken(tok.id);
      await load();
    }));
    return h(
      "tr",
      { testid: "admin-token-row", "data-token": tok.id },
      h("td", {}, h("b", {}, tok.name)),
      h("td", {}, tok.user),
      h("td", { class: "num" }, formatDateTime(tok.created_ms)),
      h("td", { class: "num" }, tok.last_used_ms === null || tok.last_used_ms === undefined ? t("admin.never") : formatDateTime(tok.last_used_ms)),
      h("td", { class: "actions" }, canUseTokens(me) ? del : null),
    );
  }

  async function load(): Promise<void> {
    tokens = await api.tokens();
    clear(body);
    body.append(...tokens.map(row));
    empty.hidden = tokens.length > 0;
  }

  const empty = h("div", { class: "empty", hidden: true }, t("admin.noTokens"));
  const table = h(
    "table",
    { class: "grid", testid: "admin-tokens" },
    h("thead", {}, h("tr", {}, h("th", {}, t("admin.tokenName")), h("th", {}, t("admin.user")), h("th", {}, t("admin.created")), h("th", {}, t("admin.lastUsed")), h("th", {}, ""))),
    body,
  );
  const root = section(
    "admin-tokens-section",
    t("admin.tokens"),
    h("p", { class: "muted" }, t("admin.tokensHint")),
    canUseTokens(me) ? form : null,
    secretHost,
    err,
    table,
    empty,
  );
  return {
    id: "tokens",
    root,
    load: () => {
      // A token shown at creation is not shown again on a later visit.
      clear(secretHost);
      return run(err, null, load).then(() => undefined);
    },
  };
}
