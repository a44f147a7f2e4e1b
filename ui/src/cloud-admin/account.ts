// The account (admins): the IP allow-list, and deleting the account with
// all its data, which needs the account ID typed out and the password.
import { h } from "../dom";
import { t } from "../i18n";
import type { AccountView, CloudAdminApi } from "./api";
import { errorBox, field, run, section, type AdminSection } from "./common";

/** One CIDR block per line (or separated by commas or spaces). */
export function parseIpList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function accountSection(api: CloudAdminApi, onDeleted: () => void): AdminSection {
  let account: AccountView | null = null;
  const info = h("div", { class: "kv-row", testid: "admin-account-info" });

  // ---- IP allow-list
  const ipErr = errorBox("admin-ip-error");
  const ipOk = h("div", { class: "ok", testid: "admin-ip-saved", hidden: true });
  const ips = h("textarea", { testid: "admin-ip-allow", rows: 4, cols: 40, placeholder: "192.0.2.0/24\n2001:db8::/32" });
  const saveIps = h("button", { class: "primary", type: "submit", testid: "admin-ip-save" }, t("admin.save"));
  // What the admin typed is not overwritten by a refresh that lands
  // meanwhile (the first load can arrive after the first keystrokes).
  let ipsEdited = false;
  ips.addEventListener("input", () => {
    ipsEdited = true;
  });
  const ipForm = h("form", { class: "form-grid" }, field(t("admin.ipAllow"), ips), saveIps);
  ipForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    ipOk.hidden = true;
    void run(ipErr, saveIps, async () => {
      const stored = await api.setIpAllow(parseIpList(ips.value));
      ips.value = stored.join("\n");
      ipsEdited = false;
      ipOk.textContent = stored.length ? t("admin.ipSaved", { n: stored.length }) : t("admin.ipAnywhere");
      ipOk.hidden = false;
    });
  });

  // ---- deletion
  const delErr = errorBox("admin-delete-error");
  const confirm = h("input", { testid: "admin-delete-confirm", size: 18, autocomplete: "off" });
  const password = h("input", { testid: "admin-delete-password", type: "password", size: 18, autocomplete: "current-password" });
  const del = h("button", { class: "danger", type: "submit", testid: "admin-delete-account", disabled: true }, t("admin.deleteAccount"));
  const prompt = h("p", { testid: "admin-delete-prompt" });
  const armed = (): boolean => account !== null && confirm.value.trim() === account.id && password.value.length > 0;
  const arm = (): void => {
    del.disabled = !armed();
  };
  confirm.addEventListener("input", arm);
  password.addEventListener("input", arm);
  const delForm = h("form", { class: "form-grid" }, field(t("admin.typeAccount"), confirm), field(t("admin.password"), password), del);
  delForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!armed()) return;
    void run(delErr, del, async () => {
      try {
        await api.deleteAccount(confirm.value, password.value);
      } finally {
        password.value = "";
        arm();
      }
      onDeleted();
    });
  });

  function paint(): void {
    const a = account;
    info.replaceChildren();
    if (!a) return;
    const kv = (label: string, value: string): HTMLElement => h("div", { class: "kv" }, h("span", { class: "muted" }, label), h("b", {}, value));
    info.append(kv(t("admin.accountId"), a.id), kv(t("admin.name"), a.name), kv(t("admin.plan"), a.plan));
    if (!ipsEdited) ips.value = a.ip_allow.join("\n");
    prompt.textContent = t("admin.deletePrompt", { account: a.id });
    arm();
  }

  const root = section(
    "admin-account-section",
    t("admin.account"),
    info,
    h("h3", {}, t("admin.ipAllow")),
    h("p", { class: "muted" }, t("admin.ipHint")),
    ipForm,
    ipOk,
    ipErr,
    h("h3", {}, t("admin.dangerZone")),
    h("div", { class: "panel danger-zone" }, prompt, delForm, delErr),
  );
  return {
    id: "account",
    root,
    load: async () => {
      await run(ipErr, null, async () => {
        account = await api.account();
      });
      ipOk.hidden = true;
      paint();
    },
  };
}
