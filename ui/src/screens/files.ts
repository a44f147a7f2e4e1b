// Files: the measurement files this agent collected from its instruments'
// FTP servers (with where each stands, as core says), "fetch" for a file
// over the automatic limit, "upload" now, the local folder; and the files
// of the signed-in cloud account with their download. Long transfers show
// the backend's `file-progress`.
import { api, errorText, events, type CloudFile, type FileProgress, type LocalFileView } from "../api";
import { formatBytes } from "../cloudfmt";
import { clear, h, option, showError } from "../dom";
import { t, tDyn } from "../i18n";
import { app, type Screen } from "../state";
import { formatDateTime } from "../time";

function statusBadge(f: LocalFileView): HTMLElement {
  return h("span", { class: `file-status ${f.status}`, testid: "file-status", title: f.reason ?? "" }, tDyn(`files.status.${f.status}`, f.status));
}

export function filesScreen(): Screen {
  const instrument = h("select", { testid: "files-instrument" });
  const refresh = h("button", { testid: "files-refresh" }, t("files.refresh"));
  const folder = h("button", { testid: "files-open-folder" }, t("files.openFolder"));
  const note = h("div", { class: "muted", testid: "files-note", hidden: true });
  const err = h("div", { class: "error", hidden: true, testid: "files-error" });
  const progress = h("div", { class: "report-progress", testid: "files-progress", hidden: true });
  const bar = h("progress", { max: 1, value: 0 });
  const progressText = h("span", {});
  progress.append(bar, " ", progressText);

  const localBody = h("tbody");
  const localEmpty = h("div", { class: "empty", hidden: true }, t("files.localEmpty"));
  const cloudBody = h("tbody");
  const cloudEmpty = h("div", { class: "empty", hidden: true, testid: "files-cloud-empty" }, t("files.cloudEmpty"));
  const cloudErr = h("div", { class: "error", hidden: true, testid: "files-cloud-error" });
  const head = (cols: string[]): HTMLElement => h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, c))));

  const root = h(
    "section",
    { class: "screen", testid: "screen-files" },
    h("div", { class: "toolbar" }, h("h2", {}, t("files.title")), h("span", { class: "spacer" }), instrument, refresh, folder),
    err,
    note,
    progress,
    h("h3", {}, t("files.local")),
    h(
      "div",
      { class: "scroll" },
      h("table", { class: "grid", testid: "files-local" }, head([t("files.name"), t("files.instrument"), t("files.size"), t("files.time"), t("files.state"), t("common.actions")]), localBody),
      localEmpty,
    ),
    h("h3", {}, t("files.cloud")),
    cloudErr,
    h(
      "div",
      { class: "scroll" },
      h("table", { class: "grid", testid: "files-cloud" }, head([t("files.name"), t("files.agent"), t("files.instrument"), t("files.size"), t("files.uploaded"), t("files.sha256"), t("common.actions")]), cloudBody),
      cloudEmpty,
    ),
  );

  void events.fileProgress((p: FileProgress) => {
    progress.hidden = false;
    bar.max = Math.max(1, p.total);
    bar.value = p.done;
    progressText.textContent = t("files.progress", { kind: tDyn(`files.kind.${p.kind}`, p.kind), name: p.name, done: formatBytes(p.done), total: formatBytes(p.total) });
  });

  const selected = (): string | null => instrument.value || null;
  function say(text: string | null): void {
    note.hidden = !text;
    note.textContent = text ?? "";
  }

  async function act(btn: HTMLButtonElement, run: () => Promise<string>): Promise<void> {
    btn.disabled = true;
    showError(err, null);
    try {
      say(await run());
      await load();
    } catch (e) {
      showError(err, errorText(e));
    } finally {
      btn.disabled = false;
    }
  }

  function paintLocal(list: LocalFileView[]): void {
    clear(localBody);
    localEmpty.hidden = list.length > 0;
    for (const f of list) {
      const actions = h("td", { class: "actions" });
      if (f.fetchable) {
        const b = h("button", { testid: "file-fetch" }, t("files.fetch"));
        b.addEventListener("click", () => void act(b, async () => {
          const v = await api.filesFetch(f.instrument, f.name);
          return t("files.fetched", { name: v.name, size: formatBytes(v.size) });
        }));
        actions.append(b);
      }
      if (f.uploadable) {
        const b = h("button", { testid: "file-upload" }, t("files.upload"));
        b.addEventListener("click", () => void act(b, async () => {
          const v = await api.filesUpload(f.id);
          return t("files.uploadedNote", { name: v.name });
        }));
        actions.append(b);
      }
      localBody.append(
        h(
          "tr",
          { "data-file": f.name, testid: "file-row" },
          h("td", { class: "mono", title: f.sha256 ?? "" }, f.name),
          h("td", {}, f.instrument),
          h("td", { class: "num" }, formatBytes(f.size)),
          h("td", { class: "num" }, formatDateTime(f.time)),
          h("td", {}, statusBadge(f), f.reason ? h("div", { class: "muted small" }, f.reason) : null),
          actions,
        ),
      );
    }
  }

  function paintCloud(list: CloudFile[]): void {
    clear(cloudBody);
    cloudEmpty.hidden = list.length > 0;
    for (const f of list) {
      const b = h("button", { testid: "cloud-file-download" }, t("files.download"));
      b.addEventListener("click", () => void act(b, async () => t("files.downloaded", { path: await api.cloudFileDownload(f.id) })));
      cloudBody.append(
        h(
          "tr",
          { "data-file": f.name, testid: "cloud-file-row" },
          h("td", { class: "mono" }, f.name),
          h("td", {}, f.agent),
          h("td", {}, f.instrument),
          h("td", { class: "num" }, formatBytes(f.size)),
          h("td", { class: "num" }, formatDateTime(f.uploaded_ms)),
          h("td", { class: "mono", title: f.sha256 }, `${f.sha256.slice(0, 12)}…`),
          h("td", { class: "actions" }, b),
        ),
      );
    }
  }

  async function loadCloud(): Promise<void> {
    showError(cloudErr, null);
    try {
      const st = await api.cloudStatus();
      if (!st.signed_in) {
        clear(cloudBody);
        cloudEmpty.hidden = false;
        cloudEmpty.textContent = t("files.cloudSignIn");
        return;
      }
      cloudEmpty.textContent = t("files.cloudEmpty");
      paintCloud(await api.cloudFiles(selected()));
    } catch (e) {
      clear(cloudBody);
      showError(cloudErr, errorText(e));
    }
  }

  async function load(): Promise<void> {
    try {
      paintLocal(await api.filesLocal(selected()));
      showError(err, null);
    } catch (e) {
      showError(err, errorText(e));
    }
    await loadCloud();
  }

  function paintInstruments(): void {
    const keep = instrument.value;
    clear(instrument);
    instrument.append(option("", t("files.allInstruments"), !keep));
    for (const i of app.instruments) instrument.append(option(i.config.id, i.config.id, keep === i.config.id));
  }

  instrument.addEventListener("change", () => void load());
  refresh.addEventListener("click", () => void load());
  folder.addEventListener("click", () => void act(folder, async () => t("files.folderOpened", { path: await api.filesOpenFolder(selected()) })));

  return {
    root,
    show() {
      paintInstruments();
      void load();
    },
  };
}
