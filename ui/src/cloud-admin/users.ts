// Users of the account (admins): invite with a temporary password shown
// once, change a role or the second factor, give a new temporary
// password, delete.
import { clear, h, option } from "../dom";
import { t, tDyn, type Key } from "../i18n";
import { formatDateTime } from "../time";
import { ROLES, type AdminMe, type AdminUser, type CloudAdminApi, type Role } from "./api";
import { deleteButton, errorBox, field, run, section, shownOnce, type AdminSection } from "./common";

export function usersSection(api: CloudAdminApi, me: AdminMe): AdminSection {
  let users: AdminUser[] = [];
  const err = errorBox("admin-users-error");
  const secretHost = h("div");
  const body = h("tbody");
  const table = h(
    "table",
    { class: "grid", testid: "admin-users" },
    h("thead", {}, h("tr", {}, ...["admin.userId", "admin.name", "admin.email", "admin.role", "admin.twoFactor", "admin.created", ""].map((k) => h("th", {}, k ? t(k as Key) : "")))),
    body,
  );

  const id = h("input", { testid: "admin-invite-id", size: 14, autocomplete: "off" });
  const name = h("input", { testid: "admin-invite-name", size: 18 });
  const email = h("input", { testid: "admin-invite-email", type: "email", size: 24 });
  const role = h("select", { testid: "admin-invite-role" }, ...ROLES.map((r) => option(r, tDyn(`admin.role.${r}`, r), r === "member")));
  const invite = h("button", { class: "primary", type: "submit", testid: "admin-invite" }, t("admin.invite"));
  // Where the back end can mail it (the cloud's mailer), the temporary
  // password goes to the new user's address and is never shown here.
  const byMail = api.canInviteByMail ? h("input", { type: "checkbox", testid: "admin-invite-mail", checked: api.inviteByMailDefault ?? true }) : null;
  const form = h(
    "form",
    { class: "form-grid", testid: "admin-invite-form" },
    field(t("admin.userId"), id),
    field(t("admin.name"), name),
    field(t("admin.email"), email),
    field(t("admin.role"), role),
    byMail ? h("label", { class: "check" }, byMail, t("admin.inviteByMail")) : null,
    invite,
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void run(err, invite, async () => {
      const mail = !!byMail?.checked;
      const made = await api.createUser(id.value, name.value, email.value, role.value as Role, mail);
      if (made.invited) {
        clear(secretHost);
        secretHost.append(h("div", { class: "ok", testid: "admin-invite-mailed" }, t("admin.inviteMailed", { user: made.user.id, email: made.invited })));
      } else {
        showSecret(made.user.id, made.temporary_password, "admin.invited");
      }
      id.value = name.value = email.value = "";
      await load();
    });
  });

  function showSecret(user: string, password: string, note: "admin.invited" | "admin.tempReset"): void {
    clear(secretHost);
    secretHost.append(shownOnce("admin-temp-password", t(note, { user }), password));
  }

  function row(u: AdminUser): HTMLElement {
    const self = u.id === me.user;
    const roleSel = h("select", { testid: "admin-user-role" }, ...ROLES.map((r) => option(r, tDyn(`admin.role.${r}`, r), r === u.role)));
    roleSel.addEventListener("change", () => void run(err, null, async () => {
      try {
        await api.updateUser(u.id, { name: null, email: null, role: roleSel.value, two_factor: null });
      } finally {
        await load();
      }
    }));
    // An admin can switch the factor to none or email; the app only by the user.
    const tf = h(
      "select",
      { testid: "admin-user-2fa" },
      option("none", t("admin.tf.none"), u.two_factor === "none"),
      option("email", t("admin.tf.email"), u.two_factor === "email"),
      u.two_factor === "totp" ? option("totp", t("admin.tf.totp"), true) : null,
    );
    tf.addEventListener("change", () => void run(err, null, async () => {
      try {
        await api.updateUser(u.id, { name: null, email: null, role: null, two_factor: tf.value });
      } finally {
        await load();
      }
    }));
    const temp = h("button", { type: "button", class: "small", testid: "admin-user-temp" }, t("admin.tempPassword"));
    temp.addEventListener("click", () => void run(err, temp, async () => {
      const r = await api.temporaryPassword(u.id);
      showSecret(u.id, r.temporary_password, "admin.tempReset");
      await load();
    }));
    const del = deleteButton("admin-user-delete", () => void run(err, null, async () => {
      await api.deleteUser(u.id);
      await load();
    }));
    return h(
      "tr",
      { testid: "admin-user-row", "data-user": u.id, "data-role": u.role, "data-two-factor": u.two_factor },
      h("td", {}, h("b", {}, u.id), self ? h("span", { class: "muted" }, ` (${t("admin.you")})`) : null),
      h("td", {}, u.name),
      h("td", {}, u.email),
      h("td", {}, roleSel),
      h("td", {}, tf),
      h("td", { class: "num" }, formatDateTime(u.created_ms), u.must_change ? h("div", { class: "warn" }, t("admin.mustChange")) : null),
      h("td", { class: "actions" }, temp, " ", self ? null : del),
    );
  }

  async function load(): Promise<void> {
    try {
      users = await api.users();
    } catch (e) {
      users = [];
      throw e;
    } finally {
      clear(body);
      body.append(...users.map(row));
    }
  }

  const root = section("admin-users-section", t("admin.users"), h("p", { class: "muted" }, t("admin.inviteHint")), form, secretHost, err, table);
  return {
    id: "users",
    root,
    load: () => {
      // A temporary password is not shown again on a later visit.
      clear(secretHost);
      return run(err, null, load).then(() => undefined);
    },
  };
}
