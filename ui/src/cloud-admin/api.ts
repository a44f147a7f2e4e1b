// The seam between the administration screens and a back end: one method
// per admin operation of the cloud's REST API (/api/v1). The desktop answers
// through Tauri commands (tauri.ts), the browser through the REST API itself
// (web.ts); the screens take a CloudAdminApi and run the same in both.
import type {
  AccessEntry,
  AccessLogPage,
  AccessLogQuery,
  AccountView,
  AdminGroup,
  AdminMe,
  AdminTeam,
  AdminUser,
  ApiTokenView,
  CreatedToken,
  TotpSetup,
  UserPatch,
  UserWithPassword,
} from "../bindings";

export type {
  AccessEntry,
  AccessLogPage,
  AccessLogQuery,
  AccountView,
  AdminGroup,
  AdminMe,
  AdminTeam,
  AdminUser,
  ApiTokenView,
  CreatedToken,
  TotpSetup,
  UserPatch,
  UserWithPassword,
};

/** A created user: the temporary password shown once, or (`invited`)
 *  the address the cloud mailed it to. */
export type Invitation = UserWithPassword & { invited?: string | null };

/** An agent as a group lists it. */
export interface AgentRef {
  id: string;
  name: string;
}

export type Role = "admin" | "member" | "viewer";
export const ROLES: Role[] = ["admin", "member", "viewer"];

/** Largest access-log page a screen asks for (the desktop refuses more). */
export const MAX_LOG_PAGE = 500;

export interface CloudAdminApi {
  /** GET /me: who is signed in, their role and second factor. */
  me(): Promise<AdminMe>;

  /** GET /users */
  users(): Promise<AdminUser[]>;
  /** POST /users: an invitation; the temporary password is answered once,
   *  or with `invite` mailed to `email` by the cloud (then `invited` names
   *  the address and no password is answered). */
  createUser(id: string, name: string, email: string, role: Role, invite?: boolean): Promise<Invitation>;
  /** Whether `createUser` can mail the invitation (the web back end can). */
  readonly canInviteByMail?: boolean;
  /** Whether the mail box starts ticked (default: yes). */
  readonly inviteByMailDefault?: boolean;
  /** PATCH /users/{id} */
  updateUser(id: string, patch: UserPatch): Promise<AdminUser>;
  /** POST /users/{id}/temporary-password: answered once. */
  temporaryPassword(id: string): Promise<UserWithPassword>;
  /** DELETE /users/{id} */
  deleteUser(id: string): Promise<void>;

  /** GET /teams */
  teams(): Promise<AdminTeam[]>;
  /** POST /teams (create) or PUT /teams/{id}. */
  saveTeam(create: boolean, team: AdminTeam): Promise<AdminTeam>;
  /** DELETE /teams/{id} */
  deleteTeam(id: string): Promise<void>;

  /** GET /agents: what a group can hold. */
  agents(): Promise<AgentRef[]>;
  /** GET /groups: measurement groups and their grants. */
  groups(): Promise<AdminGroup[]>;
  /** POST /groups (create) or PUT /groups/{id}. */
  saveGroup(create: boolean, group: AdminGroup): Promise<AdminGroup>;
  /** DELETE /groups/{id} */
  deleteGroup(id: string): Promise<void>;

  /** POST /me/totp: the secret and the otpauth URI for the QR code. */
  totpSetup(): Promise<TotpSetup>;
  /** POST /me/totp/confirm: the second factor now in force. */
  totpConfirm(code: string): Promise<string>;

  /** GET /tokens */
  tokens(): Promise<ApiTokenView[]>;
  /** POST /tokens: the token text is answered once. */
  createToken(name: string): Promise<CreatedToken>;
  /** DELETE /tokens/{id} */
  deleteToken(id: string): Promise<void>;

  /** GET /account */
  account(): Promise<AccountView>;
  /** PUT /account/ip-allow: the list as stored. */
  setIpAllow(list: string[]): Promise<string[]>;
  /** GET /access-log, filtered and paged. */
  accessLog(q: AccessLogQuery): Promise<AccessLogPage>;
  /** DELETE /account: `confirm` is the account ID as typed; ends the session. */
  deleteAccount(confirm: string, password: string): Promise<void>;
}

export function isAdmin(me: AdminMe | null): boolean {
  return me?.role === "admin";
}

/** Members and admins make API tokens; viewers only read. */
export function canUseTokens(me: AdminMe | null): boolean {
  return me?.role === "admin" || me?.role === "member";
}
