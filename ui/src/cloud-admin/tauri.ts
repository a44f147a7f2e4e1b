// The desktop's CloudAdminApi: each method is one Tauri command of the
// contract (src-tauri/src/cloud_admin.rs), answered by core's cloudlink
// over the session the Cloud screen signed in with.
import { call } from "../api";
import type { CloudAdminApi } from "./api";

/** Commands answering `()` resolve to null; the interface says void. */
const done = (p: Promise<unknown>): Promise<void> => p.then(() => undefined);

export const tauriCloudAdmin: CloudAdminApi = {
  me: () => call("cloud_admin_me"),
  users: () => call("cloud_users"),
  // The cloud mails the temporary password when asked (its mailer); off
  // by default here, where an admin may hand it over in person.
  canInviteByMail: true,
  inviteByMailDefault: false,
  createUser: (id, name, email, role, invite) => call("cloud_user_create", { id, name, email, role, invite: invite ?? false }),
  updateUser: (id, patch) => call("cloud_user_update", { id, patch }),
  temporaryPassword: (id) => call("cloud_user_temporary_password", { id }),
  deleteUser: (id) => done(call("cloud_user_delete", { id })),
  teams: () => call("cloud_teams"),
  saveTeam: (create, team) => call("cloud_team_save", { create, id: team.id, name: team.name, members: team.members }),
  deleteTeam: (id) => done(call("cloud_team_delete", { id })),
  agents: async () => (await call("cloud_agents")).map((a) => ({ id: a.id, name: a.name })),
  groups: () => call("cloud_groups"),
  saveGroup: (create, group) => call("cloud_group_save", { create, group }),
  deleteGroup: (id) => done(call("cloud_group_delete", { id })),
  totpSetup: () => call("cloud_totp_setup"),
  totpConfirm: (code) => call("cloud_totp_confirm", { code }),
  tokens: () => call("cloud_tokens"),
  createToken: (name) => call("cloud_token_create", { name }),
  deleteToken: (id) => done(call("cloud_token_delete", { id })),
  account: () => call("cloud_account"),
  setIpAllow: (list) => call("cloud_ip_allow_set", { ipAllow: list }),
  accessLog: (query) => call("cloud_access_log", { query }),
  deleteAccount: (confirm, password) => done(call("cloud_account_delete", { confirm, password })),
};
