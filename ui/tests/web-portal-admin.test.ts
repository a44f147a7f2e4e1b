// @vitest-environment happy-dom
// The portal's additions over the cloud (issue 15): the Licence screen's
// commands from the cloud's status, the ZIP export's URL and file name,
// the Notifications screen, and inviting by mail on the Users screen.
import { describe, expect, it } from "vitest";
import type { CloudAdminApi } from "../src/cloud-admin/api";
import { usersSection } from "../src/cloud-admin/users";
import { zipUrl } from "../src/web/backend";
import { fileNameOf } from "../src/web/export";
import { cloudUsageOf, historyOf, licenceScreenOf, type LicenceStatusReply } from "../src/web/licence";
import { noticesScreen, type NoticesReply } from "../src/web/notifications";

const limits = {
  storage_bytes: 5 * 1024 * 1024 * 1024,
  users: 3,
  teams: 3,
  agents: 3,
  groups: 1,
  alarms_per_group: 3,
  calcs_per_group: 3,
  panels_per_group: 1,
  channels_per_instrument: 30,
  instruments_per_agent: 3,
  report_templates_per_group: 0,
  web_api: false,
  ip_restriction: false,
  csv_import: false,
  retention_days: 365,
};

const status = (over: Partial<LicenceStatusReply> = {}): LicenceStatusReply => ({
  account: "acme",
  plan: "standard",
  expires: 2_000_000,
  days_left: 20,
  limits,
  usage: { users: 3, teams: 0, agents: 1, groups: 0, storage_bytes: 1536 },
  ...over,
});

const flush = () => new Promise((r) => setTimeout(r, 0));

describe("the Licence screen over the cloud", () => {
  it("shows the plan in force and the term as the cloud states them", () => {
    const s = licenceScreenOf(status());
    expect(s.licence).toMatchObject({ plan: "standard", licensed_plan: "standard", account: "acme", expires: 2_000_000, days_left: 20, problem: null });
    expect(s.usage).toEqual([]);
    expect(licenceScreenOf(status({ plan: "free", expires: null, days_left: null })).licence.licensed_plan).toBeNull();
    expect(licenceScreenOf(status({ plan: "bogus" })).licence.plan).toBe("free");
  });

  it("builds the account's bars as the desktop's core does", () => {
    const u = cloudUsageOf(status());
    expect(u.limits.map((l) => [l.limit, l.text, l.full])).toEqual([
      ["users", "3 / 3", true],
      ["teams", "0 / 3", false],
      ["agents", "1 / 3", false],
      ["groups", "0 / 1", false],
      ["storage_bytes", "1.5 KiB / 5.0 GiB", false],
    ]);
    expect(u.limits[0].percent).toBe(100);
    expect(historyOf([{ at: 0, what: "card-applied", by: "alice", detail: "" }])[0]).toMatchObject({ what: "card-applied", by: "alice", detail: null });
  });
});

describe("the ZIP export", () => {
  it("asks the cloud for every channel over the Viewer's range", () => {
    expect(zipUrl(["3", "17"], 1000.4, 2000.2)).toBe("/api/v1/channels/3,17/zip?from=1000&to=2001");
    expect(fileNameOf('attachment; filename="meterdeck-acme-x.zip"', "f.zip")).toBe("meterdeck-acme-x.zip");
    expect(fileNameOf(null, "f.zip")).toBe("f.zip");
  });
});

describe("the Notifications screen", () => {
  it("says where the cloud's mail goes", async () => {
    const reply: NoticesReply = {
      mail: false,
      recipients: [{ user: "boss", name: "Boss", email: null }],
      admins_without_email: ["quiet"],
      own_email: "mia@example.com",
      receives_account_notices: false,
      kinds: [
        { kind: "traffic-90", to: "admins" },
        { kind: "password-reset", to: "user" },
      ],
      recent: [],
    };
    const s = noticesScreen(async () => reply);
    s.show();
    await flush();
    const q = (id: string) => s.root.querySelector<HTMLElement>(`[data-testid=${id}]`);
    expect(q("notices-mail")!.dataset.mail).toBe("false");
    expect(q("notices-recipient")!.dataset.user).toBe("boss");
    expect(q("notices-recipient")!.textContent).toContain("(shown to admins)");
    expect(q("notices-admins-without-email")!.textContent).toContain("quiet");
    expect(q("notices-own")!.textContent).toContain("mia@example.com");
    expect(s.root.querySelectorAll("[data-testid=notices-kind]")).toHaveLength(2);
    expect(q("notices-none-sent")).not.toBeNull();
    const failing = noticesScreen(async () => {
      throw new Error("the cloud could not be reached");
    });
    failing.show();
    await flush();
    expect(failing.root.querySelector("[data-testid=notices-error]")!.textContent).toContain("could not be reached");
  });
});

describe("inviting by mail", () => {
  it("mails the password instead of showing it where the back end can", async () => {
    const calls: unknown[][] = [];
    const users = [{ id: "boss", name: "Boss", email: "b@x.test", role: "admin", two_factor: "none", must_change: false, created_ms: 1 }];
    const api = {
      canInviteByMail: true,
      users: async () => users,
      createUser: async (id: string, name: string, email: string, role: string, invite?: boolean) => {
        calls.push([id, email, role, invite]);
        const u = { id, name, email, role, two_factor: "none", must_change: true, created_ms: 2 };
        users.push(u);
        return { user: u, temporary_password: "", invited: email };
      },
    } as unknown as CloudAdminApi;
    const s = usersSection(api, { account: "acme", account_name: "Acme", user: "boss", role: "admin", two_factor: "none" });
    document.body.append(s.root);
    await s.load();
    const q = (id: string) => s.root.querySelector<HTMLInputElement>(`[data-testid=${id}]`)!;
    expect(q("admin-invite-mail").checked).toBe(true);
    q("admin-invite-id").value = "mia";
    q("admin-invite-email").value = "mia@example.com";
    q("admin-invite-form").dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    await flush();
    expect(calls).toEqual([["mia", "mia@example.com", "member", true]]);
    expect(q("admin-invite-mailed").textContent).toContain("mia@example.com");
    expect(s.root.querySelector("[data-testid=admin-temp-password]")).toBeNull();
    s.root.remove();
  });
});
