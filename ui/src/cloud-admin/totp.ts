// The signed-in user's authenticator app (TOTP): set up shows a QR code of
// the otpauth URI and the secret as text, then a code from the app
// confirms it. Every role can do this for themselves.
import { clear, h } from "../dom";
import { t, tDyn } from "../i18n";
import type { AdminMe, CloudAdminApi } from "./api";
import { errorBox, field, run, section, type AdminSection } from "./common";
import { qrSvg } from "./qr";

/** `JBSWY3DPEHPK3PXP` → `JBSW Y3DP EHPK 3PXP`, easier to type in. */
export function groupSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, "$1 ");
}

export function totpSection(api: CloudAdminApi, initial: AdminMe): AdminSection {
  let me = initial;
  const err = errorBox("admin-totp-error");
  const body = h("div", { class: "panel" });

  function paint(): void {
    clear(body);
    const state = h("div", { testid: "admin-totp-state", "data-two-factor": me.two_factor }, t("admin.tfNow", { factor: tDyn(`admin.tf.${me.two_factor}`, me.two_factor) }));
    body.append(state);
    if (me.two_factor === "totp") {
      body.append(h("p", { class: "muted" }, t("admin.totpOnHint")));
      return;
    }
    const start = h("button", { type: "button", class: "primary", testid: "admin-totp-start" }, t("admin.totpStart"));
    start.addEventListener("click", () => void run(err, start, async () => {
      const setup = await api.totpSetup();
      enrol(setup.secret, setup.otpauth_url);
    }));
    body.append(h("p", { class: "muted" }, t("admin.totpHint")), start);
  }

  function enrol(secret: string, uri: string): void {
    clear(body);
    const code = h("input", { testid: "admin-totp-code", size: 8, inputmode: "numeric", autocomplete: "one-time-code", maxlength: 8 });
    const confirm = h("button", { class: "primary", type: "submit", testid: "admin-totp-confirm" }, t("admin.totpConfirm"));
    const form = h("form", { class: "form-grid" }, field(t("admin.totpCode"), code), confirm);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void run(err, confirm, async () => {
        const factor = await api.totpConfirm(code.value);
        me = { ...me, two_factor: factor };
        paint();
        body.append(h("div", { class: "ok", testid: "admin-totp-done" }, t("admin.totpDone")));
      });
    });
    body.append(
      h("p", {}, t("admin.totpScan")),
      h(
        "div",
        { class: "totp-enrol" },
        h("div", { class: "qr" }, qrSvg(uri)),
        h(
          "div",
          {},
          h("div", { class: "muted" }, t("admin.totpSecret")),
          h("code", { class: "secret", testid: "admin-totp-secret", "data-secret": secret }, groupSecret(secret)),
          h("p", { class: "muted" }, t("admin.totpThen")),
          form,
        ),
      ),
    );
  }

  const root = section("admin-totp-section", t("admin.totp"), err, body);
  return {
    id: "security",
    root,
    load: async () => {
      await run(err, null, async () => {
        me = await api.me();
      });
      paint();
    },
  };
}
