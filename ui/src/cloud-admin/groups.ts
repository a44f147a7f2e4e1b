// Measurement groups (admins): which agents belong together, and the
// users and teams granted to see them.
import { clear, h } from "../dom";
import { t } from "../i18n";
import type { AdminGroup, AdminTeam, AdminUser, AgentRef, CloudAdminApi } from "./api";
import { checkList, deleteButton, errorBox, field, list, run, section, type AdminSection } from "./common";

export function groupsSection(api: CloudAdminApi): AdminSection {
  let groups: AdminGroup[] = [];
  let agents: AgentRef[] = [];
  let users: AdminUser[] = [];
  let teams: AdminTeam[] = [];
  const err = errorBox("admin-groups-error");
  const formHost = h("div", { class: "form-host" });
  const body = h("tbody");
  const add = h("button", { type: "button", class: "primary", testid: "admin-group-new", disabled: true }, t("admin.newGroup"));
  add.addEventListener("click", () => edit(null));
  const agentName = (id: string): string => agents.find((a) => a.id === id)?.name ?? id;

  function edit(g: AdminGroup | null): void {
    clear(formHost);
    const id = h("input", { testid: "admin-group-id", size: 14, value: g?.id ?? "", readonly: g ? true : null });
    const name = h("input", { testid: "admin-group-name", size: 20, value: g?.name ?? "" });
    const agentBoxes = checkList("admin-group-agent", agents.map((a) => [a.id, a.name]), g?.agents ?? []);
    const userBoxes = checkList("admin-group-user", users.map((u) => [u.id, u.id]), g?.users ?? []);
    const teamBoxes = checkList("admin-group-team", teams.map((x) => [x.id, x.name || x.id]), g?.teams ?? []);
    const save = h("button", { class: "primary", type: "submit", testid: "admin-group-save" }, t("admin.save"));
    const cancel = h("button", { type: "button" }, t("cloud.cancel"));
    cancel.addEventListener("click", () => clear(formHost));
    const form = h(
      "form",
      { class: "panel form-grid", testid: "admin-group-form" },
      field(t("admin.groupId"), id),
      field(t("admin.name"), name),
      field(t("admin.agents"), agentBoxes.root, "grow"),
      field(t("admin.grantUsers"), userBoxes.root, "grow"),
      field(t("admin.grantTeams"), teamBoxes.root, "grow"),
      save,
      cancel,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void run(err, save, async () => {
        await api.saveGroup(g === null, { id: id.value, name: name.value, agents: agentBoxes.picked(), users: userBoxes.picked(), teams: teamBoxes.picked() });
        clear(formHost);
        await load();
      });
    });
    formHost.append(form);
  }

  function row(g: AdminGroup): HTMLElement {
    const open = h("button", { type: "button", class: "small", testid: "admin-group-edit" }, t("admin.edit"));
    open.addEventListener("click", () => edit(g));
    const del = deleteButton("admin-group-delete", () => void run(err, null, async () => {
      await api.deleteGroup(g.id);
      await load();
    }));
    return h(
      "tr",
      { testid: "admin-group-row", "data-group": g.id, "data-users": g.users.join(","), "data-teams": g.teams.join(","), "data-agents": g.agents.join(",") },
      h("td", {}, h("b", {}, g.id)),
      h("td", {}, g.name),
      h("td", {}, list(g.agents.map(agentName))),
      h("td", {}, list([...g.users, ...g.teams.map((x) => t("admin.teamLabel", { team: x }))])),
      h("td", { class: "actions" }, open, " ", del),
    );
  }

  async function load(): Promise<void> {
    [groups, agents, users, teams] = await Promise.all([api.groups(), api.agents(), api.users(), api.teams()]);
    // The form offers what these lists hold: it opens once they are read.
    add.disabled = false;
    clear(body);
    body.append(...groups.map(row));
  }

  const table = h(
    "table",
    { class: "grid", testid: "admin-groups" },
    h("thead", {}, h("tr", {}, h("th", {}, t("admin.groupId")), h("th", {}, t("admin.name")), h("th", {}, t("admin.agents")), h("th", {}, t("admin.granted")), h("th", {}, ""))),
    body,
  );
  const root = section("admin-groups-section", t("admin.groups"), h("p", { class: "muted" }, t("admin.groupsHint")), h("div", { class: "toolbar" }, add), formHost, err, table);
  return { id: "groups", root, load: () => run(err, null, load).then(() => undefined) };
}
