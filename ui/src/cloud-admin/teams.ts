// Teams (admins): a name and members; groups can be granted to a team.
import { clear, h } from "../dom";
import { t } from "../i18n";
import type { AdminTeam, AdminUser, CloudAdminApi } from "./api";
import { checkList, deleteButton, errorBox, field, list, run, section, type AdminSection } from "./common";

export function teamsSection(api: CloudAdminApi): AdminSection {
  let teams: AdminTeam[] = [];
  let users: AdminUser[] = [];
  const err = errorBox("admin-teams-error");
  const formHost = h("div", { class: "form-host" });
  const body = h("tbody");
  const add = h("button", { type: "button", class: "primary", testid: "admin-team-new", disabled: true }, t("admin.newTeam"));
  add.addEventListener("click", () => edit(null));

  function edit(team: AdminTeam | null): void {
    clear(formHost);
    const id = h("input", { testid: "admin-team-id", size: 14, value: team?.id ?? "", readonly: team ? true : null });
    const name = h("input", { testid: "admin-team-name", size: 20, value: team?.name ?? "" });
    const members = checkList("admin-team-member", users.map((u) => [u.id, u.name && u.name !== u.id ? `${u.name} (${u.id})` : u.id]), team?.members ?? []);
    const save = h("button", { class: "primary", type: "submit", testid: "admin-team-save" }, t("admin.save"));
    const cancel = h("button", { type: "button" }, t("cloud.cancel"));
    cancel.addEventListener("click", () => clear(formHost));
    const form = h(
      "form",
      { class: "panel form-grid", testid: "admin-team-form" },
      field(t("admin.teamId"), id),
      field(t("admin.name"), name),
      field(t("admin.members"), members.root, "grow"),
      save,
      cancel,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void run(err, save, async () => {
        await api.saveTeam(team === null, { id: id.value, name: name.value, members: members.picked() });
        clear(formHost);
        await load();
      });
    });
    formHost.append(form);
  }

  function row(team: AdminTeam): HTMLElement {
    const open = h("button", { type: "button", class: "small", testid: "admin-team-edit" }, t("admin.edit"));
    open.addEventListener("click", () => edit(team));
    const del = deleteButton("admin-team-delete", () => void run(err, null, async () => {
      await api.deleteTeam(team.id);
      await load();
    }));
    return h(
      "tr",
      { testid: "admin-team-row", "data-team": team.id, "data-members": team.members.join(",") },
      h("td", {}, h("b", {}, team.id)),
      h("td", {}, team.name),
      h("td", {}, list(team.members)),
      h("td", { class: "actions" }, open, " ", del),
    );
  }

  async function load(): Promise<void> {
    [teams, users] = await Promise.all([api.teams(), api.users()]);
    // The form offers what these lists hold: it opens once they are read.
    add.disabled = false;
    clear(body);
    body.append(...teams.map(row));
  }

  const table = h(
    "table",
    { class: "grid", testid: "admin-teams" },
    h("thead", {}, h("tr", {}, h("th", {}, t("admin.teamId")), h("th", {}, t("admin.name")), h("th", {}, t("admin.members")), h("th", {}, ""))),
    body,
  );
  const root = section("admin-teams-section", t("admin.teams"), h("div", { class: "toolbar" }, add), formHost, err, table);
  return { id: "teams", root, load: () => run(err, null, load).then(() => undefined) };
}
