import { api, errorText, type Note } from "../api";
import { sortNotes, upsertNote } from "../alarmfmt";
import { clear, h, showError } from "../dom";
import { t } from "../i18n";
import { app, unreadChanged, type Screen } from "../state";
import { formatDateTime } from "../time";
import { severityPill } from "./alarms";

const LIMIT = 500;

/** Asks the backend for the unread count and publishes it (nav badge, title). */
export async function refreshUnread(): Promise<void> {
  try {
    unreadChanged(await api.notificationsUnreadCount());
  } catch {
    /* the badge keeps its last value; the screen shows errors when opened */
  }
}

export function notificationsScreen(): Screen {
  let notes: Note[] = [];
  let unreadOnly = false;
  const fUnread = h("button", { testid: "notes-filter-unread" }, t("notes.unread"));
  const fAll = h("button", { testid: "notes-filter-all" }, t("notes.all"));
  const markAll = h("button", { testid: "notes-mark-all" }, t("notes.markAll"));
  const count = h("span", { class: "muted", testid: "notes-unread-text" });
  const err = h("div", { class: "error", hidden: true, testid: "notes-error" });
  const list = h("div", { class: "note-list", testid: "note-list", role: "list" });
  const empty = h("div", { class: "empty", hidden: true }, t("notes.empty"));

  function paintFilter(): void {
    fUnread.classList.toggle("active", unreadOnly);
    fAll.classList.toggle("active", !unreadOnly);
    fUnread.setAttribute("aria-pressed", String(unreadOnly));
    fAll.setAttribute("aria-pressed", String(!unreadOnly));
  }

  function paintCount(): void {
    count.textContent = t("notes.unreadCount", { n: app.unread });
    markAll.disabled = app.unread === 0;
  }

  async function markRead(n: Note): Promise<void> {
    if (n.read) return;
    try {
      await api.notificationMarkRead(n.id);
      n.read = true;
      showError(err, null);
      if (unreadOnly) notes = notes.filter((x) => x.id !== n.id);
      render();
    } catch (e) {
      showError(err, errorText(e));
    }
    await refreshUnread();
  }

  function render(): void {
    clear(list);
    empty.hidden = notes.length > 0;
    empty.textContent = unreadOnly ? t("notes.emptyUnread") : t("notes.empty");
    for (const n of notes) {
      const row = h(
        "div",
        {
          class: `note-row${n.read ? "" : " unread"}${n.severity ? ` sev-row-${n.severity}` : ""}`,
          testid: "note-row",
          "data-note-id": n.id,
          "data-read": n.read ? "1" : "0",
          role: "listitem",
          tabindex: 0,
          title: n.read ? null : t("notes.clickToRead"),
        },
        h("span", { class: "note-dot", "aria-hidden": "true" }),
        h("span", { class: "tabnum nowrap note-time" }, formatDateTime(n.t)),
        h("span", { class: "note-kind" }, n.severity ? severityPill(n.severity) : h("span", { class: "chip sys" }, t(n.kind === "alarm" ? "notes.kind.alarm" : "notes.kind.system"))),
        h("div", { class: "note-text" }, h("div", { class: "note-title" }, n.title), n.body ? h("div", { class: "note-body" }, n.body) : null),
        n.alarm_id ? h("code", { class: "muted small-text" }, n.alarm_id) : null,
      );
      row.addEventListener("click", () => void markRead(n));
      row.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          void markRead(n);
        }
      });
      list.append(row);
    }
  }

  async function load(): Promise<void> {
    try {
      notes = sortNotes(await api.notificationsList(unreadOnly, LIMIT));
      showError(err, null);
      render();
    } catch (e) {
      showError(err, errorText(e));
    }
  }

  fUnread.addEventListener("click", () => {
    unreadOnly = true;
    paintFilter();
    void load();
  });
  fAll.addEventListener("click", () => {
    unreadOnly = false;
    paintFilter();
    void load();
  });
  markAll.addEventListener("click", async () => {
    markAll.disabled = true;
    try {
      await api.notificationsMarkAllRead();
      showError(err, null);
    } catch (e) {
      showError(err, errorText(e));
    }
    await refreshUnread();
    await load();
  });
  app.unreadListeners.add(paintCount);
  paintFilter();
  paintCount();

  const root = h(
    "section",
    { class: "screen", testid: "screen-notifications" },
    h(
      "div",
      { class: "toolbar" },
      h("h2", {}, t("notes.title")),
      count,
      h("span", { class: "spacer" }),
      h("div", { class: "seg" }, fUnread, fAll),
      markAll,
    ),
    err,
    h("div", { class: "scroll" }, list, empty),
  );

  return {
    root,
    show() {
      void load();
      void refreshUnread();
    },
    onNote(n: Note) {
      if (!root.isConnected || root.hidden) return;
      if (unreadOnly && n.read) return;
      notes = upsertNote(notes, n).slice(0, LIMIT);
      render();
    },
  };
}
