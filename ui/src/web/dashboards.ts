// The portal's Dashboard (issue 15): the desktop's screen (screens/dashboard.ts)
// and panels (panels/*) over the cloud. Two parts:
// - the board commands the screen calls (`dashboards_list`, `panel_add`, ...)
//   answered over `/api/v1/boards` (each change answers every board as now
//   kept, as on the desktop);
// - a PanelSource over the cloud's channels: the sites the user's groups
//   grant, the newest values polled every few seconds for the channels the
//   panels show, and series downsampled by the cloud (min/max per pixel
//   column) as the portal's Viewer asks for them.
// Image panels and alarm lists stay on the desktop: the cloud keeps neither
// the pictures nor the agents' alarms (the API refuses them, saying so).
import type { Board, Dashboards, Panel, PanelKind } from "../bindings";
import { t } from "../i18n";
import type { PanelAlarm, Reading, Series, SourceUpdate } from "../panels/source";
import type { DeskSource } from "../screens/dashboard-source";
import { dashboardScreen, type BoardFiles } from "../screens/dashboard";
import type { Screen } from "../state";
import { currentMe, toSeries, type Handler } from "./backend";
import { apiFetch } from "./http";

/** The kinds the portal shows. */
export const WEB_KINDS: PanelKind[] = ["graph-value", "graph", "value"];
/** How often the newest values of the panels' channels are fetched. */
export const POLL_MS = 5000;

const enc = encodeURIComponent;

/** A board as `/api/v1/boards` answers it. */
export interface BoardReply {
  id: number;
  name: string;
  position: number;
  panels: Panel[];
  editable: boolean;
  /** Channels of its panels the user's groups do not grant. */
  no_access: string[];
}

/** The board opened last (this page's memory; nothing is kept in the browser). */
let lastBoard: number | null = null;

/** The screen's view of the boards: the one to open is the last opened, else the first. */
export function dashboardsOf(list: BoardReply[], last: number | null): Dashboards {
  const boards: Board[] = list.map((b) => ({ id: b.id, name: b.name, panels: b.panels }));
  const open = last !== null && boards.some((b) => b.id === last) ? last : (boards[0]?.id ?? null);
  return { boards, lastBoard: open };
}

async function all(open?: number): Promise<Dashboards> {
  if (open !== undefined) lastBoard = open;
  return dashboardsOf(await apiFetch<BoardReply[]>("GET", "/boards"), lastBoard);
}

async function getBoard(id: unknown): Promise<BoardReply> {
  return apiFetch<BoardReply>("GET", `/boards/${enc(String(id))}`);
}

async function putPanels(b: BoardReply, panels: Panel[], name = b.name): Promise<Dashboards> {
  await apiFetch("PUT", `/boards/${b.id}`, { name, panels });
  return all();
}

/** The board commands of the Dashboard screen, over the cloud. */
export const dashboardHandlers: Record<string, Handler> = {
  dashboards_list: () => all(),
  board_create: async (a) => {
    const b = await apiFetch<BoardReply>("POST", "/boards", { name: a.name, panels: [] });
    return all(b.id);
  },
  board_rename: async (a) => {
    const b = await getBoard(a.id);
    return putPanels(b, b.panels, String(a.name ?? ""));
  },
  board_reorder: async (a) => {
    await apiFetch("PUT", "/boards/order", { ids: a.ids });
    return all();
  },
  board_delete: async (a) => {
    await apiFetch("DELETE", `/boards/${enc(String(a.id))}`);
    return all();
  },
  board_open: async (a) => {
    lastBoard = Number(a.id);
  },
  // The cloud numbers a new panel (id 0).
  panel_add: async (a) => {
    const b = await getBoard(a.board);
    return putPanels(b, [...b.panels, { ...(a.panel as Panel), id: 0 }]);
  },
  panel_update: async (a) => {
    const b = await getBoard(a.board);
    const p = a.panel as Panel;
    if (!b.panels.some((x) => x.id === p.id)) throw new Error(`board ${b.id} has no panel ${p.id}`);
    return putPanels(
      b,
      b.panels.map((x) => (x.id === p.id ? p : x)),
    );
  },
  panel_remove: async (a) => {
    const b = await getBoard(a.board);
    return putPanels(
      b,
      b.panels.filter((x) => x.id !== Number(a.panel)),
    );
  },
  dashboard_image: async () => {
    throw new Error(t("dash.webKinds"));
  },
  dashboard_image_import: async () => {
    throw new Error(t("dash.webKinds"));
  },
  board_export: async () => {
    throw new Error("the portal exports boards as a download");
  },
  board_import: async () => {
    throw new Error("the portal imports boards from a file you choose");
  },
};

/** Board files as downloads and uploads. */
export const webBoardFiles: BoardFiles = {
  exportHref: (b) => `/api/v1/boards/${b.id}/export`,
  async importText(text, agent) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new Error(`${t("dash.notJson")} (${String(e)})`);
    }
    const q = agent ? `?agent=${enc(agent)}` : "";
    const b = await apiFetch<BoardReply>("POST", `/boards/import${q}`, doc);
    return all(b.id);
  },
  agents: () => apiFetch<{ id: string; name: string }[]>("GET", "/agents"),
};

interface AgentReply {
  id: string;
  name: string;
}
interface ChannelReply {
  id: number | string;
  path: string;
  unit?: string | null;
}
interface LatestReply {
  unit?: string | null;
  point?: { t: number; v?: number | null } | null;
}
interface Bucket {
  t_start: number;
  t_end: number;
  count: number;
  min: { t: number; v?: number | null } | null;
  max: { t: number; v?: number | null } | null;
}

/** A reading from `/channels/{id}/latest` (a stored special value has no number). */
export function readingOf(path: string, r: LatestReply): Reading {
  const p = r.point ?? null;
  const special = p && (p.v === null || p.v === undefined) ? "special" : null;
  return { path, unit: r.unit ?? null, t: p?.t ?? null, value: p?.v ?? null, special };
}

/** Panel paths are `<agent id>/<instrument>/<channel>`. */
export function cloudSource(): DeskSource {
  const known = new Map<string, { id: string; unit: string | null; label: string }>();
  const latest = new Map<string, Reading>();
  const units = new Map<string, string | null>();
  /** The channels panels asked for: their newest values are polled. */
  const watched = new Set<string>();
  const listeners = new Set<(u: SourceUpdate) => void>();
  let loaded = false;
  let polledAt = 0;
  let polling = false;

  const emit = (u: SourceUpdate): void => {
    for (const l of listeners) l(u);
  };

  async function poll(): Promise<void> {
    if (polling) return;
    polling = true;
    polledAt = Date.now();
    try {
      const paths = [...watched].filter((p) => known.has(p));
      const got = await Promise.all(
        paths.map((p) =>
          apiFetch<LatestReply>("GET", `/channels/${enc(known.get(p)!.id)}/latest`).then(
            (r) => readingOf(p, r),
            () => null,
          ),
        ),
      );
      const readings: Reading[] = [];
      for (const r of got) {
        if (!r) continue;
        const old = latest.get(r.path);
        latest.set(r.path, r);
        if (!old || old.t !== r.t) readings.push(r);
      }
      if (readings.length) emit({ type: "readings", readings });
    } finally {
      polling = false;
    }
  }

  const src: DeskSource = {
    async refresh() {
      const agents = await apiFetch<AgentReply[]>("GET", "/agents");
      const lists = await Promise.all(
        agents.map((a) => apiFetch<ChannelReply[]>("GET", `/agents/${enc(a.id)}/channels`).then((cs) => cs.map((c) => ({ a, c })))),
      );
      known.clear();
      for (const { a, c } of lists.flat()) {
        const path = `${a.id}/${c.path}`;
        known.set(path, { id: String(c.id), unit: c.unit ?? null, label: `${a.name} · ${c.path}` });
        units.set(path, c.unit ?? null);
      }
      loaded = true;
      polledAt = 0;
    },
    feed() {
      // No window events in the browser: `flush` polls instead.
    },
    flush() {
      if (loaded && watched.size && Date.now() - polledAt >= POLL_MS) void poll();
    },
    alarmsChanged() {},
    units: () => units,
    async channels() {
      if (!loaded) await src.refresh();
      return [...known.entries()]
        .sort((a, b) => a[1].label.localeCompare(b[1].label))
        .map(([path, k]) => ({ path, unit: k.unit, label: k.label }));
    },
    latest(path) {
      if (!watched.has(path)) {
        watched.add(path);
        // Asked for the first time: fetched at the next tick.
        polledAt = 0;
      }
      return latest.get(path) ?? null;
    },
    async series(paths, from, to, width): Promise<Series[]> {
      const buckets = Math.min(20000, Math.max(1, Math.round(width)));
      const q = `from=${Math.floor(from)}&to=${Math.ceil(to)}&buckets=${buckets}`;
      const out = await Promise.all(
        paths
          .filter((p) => known.has(p))
          .map(async (p) => {
            const r = await apiFetch<{ buckets: Bucket[] }>("GET", `/channels/${enc(known.get(p)!.id)}/minmax?${q}`);
            return { path: p, ...toSeries(r.buckets) };
          }),
      );
      return out;
    },
    alarms: (): PanelAlarm[] => [],
    ack: async () => {
      throw new Error(t("dash.webKinds"));
    },
    lastUser: () => currentMe()?.user.id ?? "",
    imageUrl: async () => {
      throw new Error(t("dash.webKinds"));
    },
    denied: (path) => loaded && !known.has(path),
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
  return src;
}

/** The Dashboard screen of the portal; only admins change boards. */
export function webDashboardScreen(): Screen {
  return dashboardScreen({
    source: cloudSource(),
    kinds: WEB_KINDS,
    kindsNote: "dash.webKinds",
    files: webBoardFiles,
    editable: () => currentMe()?.user.role === "admin",
  });
}
