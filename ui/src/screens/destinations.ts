import { api, errorText, fieldError, type Destination, type DestinationKind, type DestinationView } from "../api";
import { numberOrText } from "../alarmfmt";
import { clear, h, listScreen, loadList, offerUndo, option } from "../dom";
import { t, tDyn } from "../i18n";
import { textOrNull } from "../pickers";
import { type Screen } from "../state";
import { FieldErrors } from "../validate";

const KINDS: DestinationKind[] = ["desktop", "email", "webhook"];
const DEST_KEYS: (keyof DestinationView)[] = ["id", "kind", "name", "host", "port", "security", "username", "from", "to", "format", "has_secret"];

/** "a@x, b@y\nc@z" -> ["a@x", "b@y", "c@z"] (one address per item, as typed). */
export function splitList(s: string): string[] {
  return s
    .split(/[,;\n]/)
    .map((x) => x.trim())
    .filter(Boolean);
}

export function destinationSummary(d: Destination): string {
  if (d.kind === "email") {
    const server = `${d.host ?? "?"}${d.port ? `:${d.port}` : ""}${d.security ? ` (${d.security})` : ""}`;
    return `${d.username ? `${d.username} @ ` : ""}${server} → ${(d.to ?? []).join(", ")}`;
  }
  if (d.kind === "webhook") return tDyn(`dest.format.${d.format ?? ""}`, d.format ?? "");
  return "";
}

export function destinationsScreen(): Screen {
  let dests: DestinationView[] = [];
  const addBtn = h("button", { class: "primary", testid: "dest-add" }, "+ ", t("dest.add"));
  addBtn.addEventListener("click", () => openEditor(null));
  const { root, listErr, undoBar, formHost, body, empty } = listScreen({
    testid: "screen-destinations",
    title: t("dest.title"),
    actions: [addBtn],
    headers: [t("dest.id"), t("dest.kind"), t("dest.name"), t("dest.details"), t("dest.secret"), t("common.actions")],
    empty: t("dest.empty"),
  });

  function openEditor(orig: DestinationView | null): void {
    clear(formHost);
    const fe = new FieldErrors();
    const fld = (key: string, label: string | HTMLElement, input: HTMLElement, hint?: string): HTMLElement =>
      fe.add(key, h("label", { class: "field", "data-field": key }, h("span", {}, label, hint ? h("small", { class: "muted" }, " ", hint) : null), input), input);

    const id = h("input", { testid: "dest-id", value: orig?.id ?? "", readonly: orig ? true : null, autocomplete: "off", spellcheck: "false" });
    const kind = h("select", { testid: "dest-kind" }, ...KINDS.map((k) => option(k, tDyn(`dest.kind.${k}`, k), k === (orig?.kind ?? "email"))));
    const name = h("input", { testid: "dest-name", value: orig?.name ?? "", size: 24 });
    const host = h("input", { testid: "dest-host", value: orig?.host ?? "", placeholder: "smtp.example.com", size: 24 });
    const port = h("input", { testid: "dest-port", class: "narrow", inputmode: "numeric", value: orig?.port ? String(orig.port) : "", placeholder: "587" });
    const security = h(
      "select",
      { testid: "dest-security" },
      ...(["starttls", "tls", "none"] as const).map((s) => option(s, tDyn(`dest.security.${s}`, s), s === (orig?.security ?? "starttls"))),
    );
    const username = h("input", { testid: "dest-username", value: orig?.username ?? "", size: 24, autocomplete: "off" });
    const from = h("input", { testid: "dest-from", value: orig?.from ?? "", placeholder: "Meterdeck <alarms@example.com>", size: 30 });
    const to = h("input", { testid: "dest-to", value: (orig?.to ?? []).join(", "), placeholder: "ops@example.com, …", size: 36 });
    const format = h("select", { testid: "dest-format" }, ...(["slack", "teams", "json"] as const).map((f) => option(f, tDyn(`dest.format.${f}`, f), f === orig?.format)));
    // The secret is write-only: never filled from the backend, sent only when typed.
    const secret = h("input", { type: "password", testid: "dest-secret", autocomplete: "new-password", size: 36 });
    const secretLabel = h("span", {});
    const stored = h("span", { class: "ok small-text", testid: "dest-secret-stored" }, t("dest.stored"));
    const status = h("span", { class: "ok", hidden: true });
    const save = h("button", { class: "primary", type: "submit", testid: "dest-save" }, t("common.save"));
    const cancel = h("button", { type: "button", testid: "dest-cancel" }, t("common.cancel"));

    const emailBox = h(
      "div",
      { class: "form-grid" },
      fld("host", t("dest.host"), host),
      fld("port", t("dest.port"), port),
      fld("security", t("dest.security"), security),
      fld("username", t("dest.username"), username),
      fld("from", t("dest.from"), from),
      fld("to", t("dest.to"), to, t("dest.toHint")),
    );
    const webhookBox = h("div", { class: "form-grid" }, fld("format", t("dest.format"), format));
    const secretBox = h("label", { class: "field", "data-field": "secret" }, secretLabel, secret, stored);
    for (const k of ["secret", "password", "url"]) fe.add(k, secretBox, secret);

    const sync = (): void => {
      const k = kind.value as DestinationKind;
      emailBox.hidden = k !== "email";
      webhookBox.hidden = k !== "webhook";
      secretBox.hidden = k === "desktop";
      secretLabel.textContent = k === "webhook" ? t("dest.url") : t("dest.password");
      const has = Boolean(orig?.has_secret) && orig?.kind === k;
      stored.hidden = !has || secret.value !== "";
      secret.placeholder = has ? t("dest.keepSecret") : k === "webhook" ? "https://hooks.example.com/…" : "";
    };
    kind.addEventListener("change", sync);
    secret.addEventListener("input", sync);

    function build(): Destination {
      const d = { ...(structuredClone(orig ?? {}) as DestinationView) } as Destination & { has_secret?: boolean };
      for (const k of DEST_KEYS) delete (d as unknown as Record<string, unknown>)[k];
      const k = kind.value as DestinationKind;
      d.id = id.value.trim();
      d.kind = k;
      const nm = textOrNull(name);
      if (nm !== null) d.name = nm;
      if (k === "email") {
        d.host = host.value.trim();
        const p = numberOrText(port.value);
        if (p !== undefined) d.port = p;
        d.security = security.value as Destination["security"];
        const u = textOrNull(username);
        if (u !== null) d.username = u;
        d.from = from.value.trim();
        d.to = splitList(to.value);
      } else if (k === "webhook") {
        d.format = format.value as Destination["format"];
      }
      return d;
    }

    const form = h(
      "form",
      { class: "panel editor", testid: "dest-form", novalidate: true },
      h("h3", {}, orig ? t("dest.formEdit", { id: orig.id }) : t("dest.formAdd")),
      h("div", { class: "form-grid" }, fld("id", t("dest.id"), id), fld("kind", t("dest.kind"), kind), fld("name", t("dest.name"), name)),
      emailBox,
      webhookBox,
      h("div", { class: "form-grid" }, secretBox),
      h("div", { class: "muted small-text" }, t("dest.secretHint")),
      fe.general,
      h("div", { class: "row" }, save, cancel, status),
    );
    form.addEventListener("input", () => fe.clear());
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      fe.clear();
      save.disabled = true;
      try {
        await api.destinationSave(build(), secret.value === "" ? undefined : secret.value);
        secret.value = "";
        clear(formHost);
        await load();
      } catch (e) {
        fe.show(fieldError(e));
      } finally {
        save.disabled = false;
      }
    });
    const close = (): void => clear(formHost);
    cancel.addEventListener("click", close);
    form.addEventListener("keydown", (e) => {
      if (e.key === "Escape") close();
    });
    sync();
    formHost.append(form);
    form.scrollIntoView({ block: "nearest" });
    (orig ? name : id).focus();
  }

  function render(): void {
    clear(body);
    empty.hidden = dests.length > 0;
    for (const d of dests) {
      const result = h("span", { class: "test-result", testid: "dest-test-result", hidden: true, role: "status" });
      const test = h("button", { class: "small", testid: "dest-test" }, t("dest.test"));
      test.addEventListener("click", async () => {
        test.disabled = true;
        result.hidden = false;
        result.className = "test-result muted";
        result.textContent = t("dest.testing");
        let failure: string | null;
        try {
          failure = await api.destinationTest(d.id);
        } catch (e) {
          failure = errorText(e);
        }
        result.className = failure ? "test-result error" : "test-result ok";
        result.textContent = failure ? failure : t("dest.testOk");
        test.disabled = false;
      });
      const edit = h("button", { class: "small", testid: "dest-edit" }, t("common.edit"));
      edit.addEventListener("click", () => openEditor(d));
      const del = h("button", { class: "small danger", testid: "dest-delete" }, t("common.delete"));
      del.addEventListener("click", async () => {
        del.disabled = true;
        try {
          await api.destinationDelete(d.id);
          showUndo(d);
          await load();
        } catch (e) {
          del.disabled = false;
          result.hidden = false;
          result.className = "test-result error";
          result.textContent = errorText(e);
        }
      });
      const needsSecret = d.kind !== "desktop";
      body.append(
        h(
          "tr",
          { testid: "dest-row", "data-dest-id": d.id },
          h("td", {}, h("code", {}, d.id)),
          h("td", {}, tDyn(`dest.kind.${d.kind}`, d.kind)),
          h("td", {}, d.name ?? ""),
          h("td", { class: "small-text" }, destinationSummary(d)),
          h(
            "td",
            { class: "nowrap small-text" },
            !needsSecret ? h("span", { class: "muted" }, t("common.none")) : d.has_secret ? h("span", { class: "ok" }, t("dest.stored")) : h("span", { class: "warn" }, t("dest.noSecret")),
          ),
          h("td", { class: "actions dest-actions" }, h("div", { class: "btns" }, test, edit, del), result),
        ),
      );
    }
  }

  function showUndo(removed: DestinationView): void {
    // the view's `has_secret` flag is not part of what is saved
    const { has_secret: _drop, ...d } = removed;
    void _drop;
    offerUndo(undoBar, { testid: "dest-undo", message: t("dest.deleted", { id: removed.id }), label: t("common.undo"), restore: () => api.destinationSave(d), reload: load });
  }

  function load(): Promise<void> {
    return loadList(listErr, () => api.destinationsList(), (list) => {
      dests = list;
      render();
    });
  }

  return {
    root,
    show() {
      void load();
    },
  };
}
