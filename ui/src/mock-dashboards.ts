// Development stand-in for the dashboard commands (part of the `?mock`
// backend): boards in memory with one sample board; the checks are the
// backend's (meterdeck-core), not copied here.
import type { Board, Dashboards, Panel } from "./api";

type Args = Record<string, unknown>;

const PLANT_SVG =
  "data:image/svg+xml;base64," +
  btoa(
    `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="300" viewBox="0 0 480 300"><rect width="480" height="300" fill="#e8eef5"/><rect x="40" y="60" width="140" height="180" rx="10" fill="#b8c7d9" stroke="#5b6b80" stroke-width="3"/><text x="110" y="155" font-family="sans-serif" font-size="18" text-anchor="middle" fill="#2b3645">Furnace</text><path d="M180 150 H300" stroke="#5b6b80" stroke-width="8"/><circle cx="350" cy="150" r="50" fill="#cfd9e6" stroke="#5b6b80" stroke-width="3"/><text x="350" y="156" font-family="sans-serif" font-size="16" text-anchor="middle" fill="#2b3645">Pump</text></svg>`,
  );

let nextId = 2;
let last: number | null = 1;
let boards: Board[] = [
  {
    id: 1,
    name: "Furnace line",
    panels: [
      { id: 1, kind: "graph-value", title: "Furnace temperatures", x: 0, y: 0, w: 8, h: 4, channels: ["logger1/CH1_1", "logger1/CH1_2"], window: "hour", image: null, placements: [], rules: [] },
      { id: 2, kind: "value", title: "Line power", x: 8, y: 0, w: 4, h: 2, channels: ["power1/U1", "power1/P1"], window: "hour", image: null, placements: [], rules: [] },
      { id: 3, kind: "alarm-list", title: "Alarms", x: 8, y: 2, w: 4, h: 4, channels: [], window: "hour", image: null, placements: [], rules: [] },
      { id: 4, kind: "image-values", title: "Plant", x: 0, y: 4, w: 8, h: 5, channels: ["logger1/CH1_1", "power1/P1"], window: "hour", image: "img-00000001.svg", placements: [{ channel: "logger1/CH1_1", x: 0.23, y: 0.3 }], rules: [] },
    ],
  },
];

const state = (): Dashboards => ({ boards: structuredClone(boards), lastBoard: boards.some((b) => b.id === last) ? last : (boards[0]?.id ?? null) });

function find(id: unknown): Board {
  const b = boards.find((x) => x.id === id);
  if (!b) throw `no dashboard board with id ${id}`;
  return b;
}

export const dashboardCommands: Record<string, (a: Args) => unknown> = {
  dashboards_list: () => state(),
  board_create: (a) => {
    const name = String(a.name ?? "").trim();
    if (!name) throw "enter a name for the board";
    boards.push({ id: nextId, name, panels: [] });
    last = nextId++;
    return state();
  },
  board_rename: (a) => {
    find(a.id).name = String(a.name).trim();
    return state();
  },
  board_reorder: (a) => {
    const ids = a.ids as number[];
    boards = ids.map((id) => find(id));
    return state();
  },
  board_delete: (a) => {
    boards = boards.filter((b) => b.id !== a.id);
    return state();
  },
  board_open: (a) => {
    last = a.id as number;
    return null;
  },
  panel_add: (a) => {
    const b = find(a.board);
    const p = a.panel as Panel;
    b.panels.push({ ...p, id: Math.max(0, ...b.panels.map((x) => x.id)) + 1 });
    return state();
  },
  panel_update: (a) => {
    const b = find(a.board);
    const p = a.panel as Panel;
    b.panels = b.panels.map((x) => (x.id === p.id ? p : x));
    return state();
  },
  panel_remove: (a) => {
    const b = find(a.board);
    b.panels = b.panels.filter((x) => x.id !== a.panel);
    return state();
  },
  board_export: (a) => a.path,
  board_import: () => {
    throw "dashboard file: the browser preview cannot read files";
  },
  dashboard_image_import: () => "img-00000001.svg",
  dashboard_image: () => PLANT_SVG,
};
