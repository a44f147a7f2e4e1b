import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cloudSource, dashboardHandlers, dashboardsOf, readingOf, webBoardFiles, type BoardReply } from "../src/web/dashboards";

const fetchMock = vi.fn();

beforeEach(() => {
  fetchMock.mockReset();
  vi.stubGlobal("fetch", fetchMock);
  vi.stubGlobal("document", { cookie: "md_csrf=tok" });
});
afterEach(() => vi.unstubAllGlobals());

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const panel = (id: number, x: number) => ({ id, kind: "value" as const, title: "", x, y: 0, w: 2, h: 1, channels: ["a-1/dev/temp"], window: "hour" as const, image: null, placements: [], rules: [] });
const board = (id: number, panels = [panel(1, 0)]): BoardReply => ({ id, name: `B${id}`, position: id, panels, editable: true, no_access: [] });

/** Answers by "METHOD path" (the path under /api/v1, query included). */
function routes(table: Record<string, unknown>): void {
  fetchMock.mockImplementation(async (url: string, init: RequestInit) => {
    const key = `${init.method} ${url.replace("/api/v1", "")}`;
    if (!(key in table)) return json(404, { error: `no route ${key}` });
    return json(200, table[key]);
  });
}
const sent = (method: string, path: string) =>
  fetchMock.mock.calls.filter(([u, i]) => i.method === method && u === `/api/v1${path}`).map(([, i]) => JSON.parse(i.body as string));

describe("portal dashboards: the board commands over /api/v1/boards", () => {
  it("opens the last board opened, else the first", () => {
    const list = [board(3), board(5)];
    expect(dashboardsOf(list, null).lastBoard).toBe(3);
    expect(dashboardsOf(list, 5).lastBoard).toBe(5);
    expect(dashboardsOf(list, 9).lastBoard).toBe(3);
    expect(dashboardsOf([], 9)).toEqual({ boards: [], lastBoard: null });
    expect(dashboardsOf(list, null).boards[1]).toEqual({ id: 5, name: "B5", panels: [panel(1, 0)] });
  });

  it("adding a panel puts the board back with the new panel for the cloud to number", async () => {
    routes({ "GET /boards/3": board(3), "PUT /boards/3": board(3), "GET /boards": [board(3)] });
    const d = await dashboardHandlers.panel_add({ board: 3, panel: panel(0, 4) });
    expect(sent("PUT", "/boards/3")).toEqual([{ name: "B3", panels: [panel(1, 0), panel(0, 4)] }]);
    expect(d).toEqual({ boards: [{ id: 3, name: "B3", panels: [panel(1, 0)] }], lastBoard: 3 });
  });

  it("moving, renaming and removing replace the board's panels; a missing panel is refused", async () => {
    routes({ "GET /boards/3": board(3, [panel(1, 0), panel(2, 4)]), "PUT /boards/3": board(3), "GET /boards": [board(3)] });
    await dashboardHandlers.panel_update({ board: 3, panel: { ...panel(2, 6) } });
    await dashboardHandlers.board_rename({ id: 3, name: "Boiler" });
    await dashboardHandlers.panel_remove({ board: 3, panel: 1 });
    expect(sent("PUT", "/boards/3")).toEqual([
      { name: "B3", panels: [panel(1, 0), panel(2, 6)] },
      { name: "Boiler", panels: [panel(1, 0), panel(2, 4)] },
      { name: "B3", panels: [panel(2, 4)] },
    ]);
    await expect(dashboardHandlers.panel_update({ board: 3, panel: panel(9, 0) })).rejects.toThrow("board 3 has no panel 9");
  });

  it("an import names the site of a desktop file; text that is not JSON is refused before sending", async () => {
    routes({ "POST /boards/import?agent=a-1": board(8), "GET /boards": [board(3), board(8)] });
    const d = await webBoardFiles.importText('{"meterdeck_dashboard":1,"name":"D","panels":[]}', "a-1");
    expect(d.lastBoard).toBe(8);
    expect(sent("POST", "/boards/import?agent=a-1")).toEqual([{ meterdeck_dashboard: 1, name: "D", panels: [] }]);
    fetchMock.mockClear();
    await expect(webBoardFiles.importText("{nope", null)).rejects.toThrow();
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("API errors reach the screen with their message", async () => {
    fetchMock.mockResolvedValue(json(400, { error: "board: `panels[0].kind`: unknown variant `gauge`" }));
    await expect(dashboardHandlers.board_create({ name: "X" })).rejects.toThrow("`panels[0].kind`");
  });
});

describe("portal dashboards: the cloud PanelSource", () => {
  const table = {
    "GET /agents": [{ id: "a-1", name: "Site 1" }],
    "GET /agents/a-1/channels": [{ id: 11, path: "dev/temp", unit: "°C" }],
    "GET /channels/11/latest": { unit: "°C", point: { t: 5000, v: 21.5 } },
    "GET /channels/11/minmax?from=1000&to=2000&buckets=300": {
      buckets: [
        { t_start: 1000, t_end: 1500, count: 3, min: { t: 1100, v: 1 }, max: { t: 1200, v: 4 } },
        { t_start: 1500, t_end: 2000, count: 0, min: null, max: null },
      ],
    },
  };

  it("names channels by site, denies what the groups do not grant, reads series downsampled by the cloud", async () => {
    routes(table);
    const src = cloudSource();
    expect(await src.channels()).toEqual([{ path: "a-1/dev/temp", unit: "°C", label: "Site 1 · dev/temp" }]);
    expect(src.denied!("a-1/dev/temp")).toBe(false);
    expect(src.denied!("a-2/dev/temp")).toBe(true);
    const s = await src.series(["a-1/dev/temp", "a-2/dev/temp"], 1000, 2000, 300);
    expect(s).toEqual([{ path: "a-1/dev/temp", raw: false, t: [1000, 1500], min: [1, null], max: [4, null] }]);
    expect(fetchMock.mock.calls.some(([u]) => String(u).includes("a-2"))).toBe(false);
  });

  it("polls the newest values of the channels panels show and hands on only new ones", async () => {
    routes(table);
    const src = cloudSource();
    await src.refresh();
    const got: unknown[] = [];
    src.subscribe((u) => got.push(u));
    expect(src.latest("a-1/dev/temp")).toBeNull();
    src.flush();
    await vi.waitFor(() => expect(got).toHaveLength(1));
    expect(got[0]).toEqual({ type: "readings", readings: [{ path: "a-1/dev/temp", unit: "°C", t: 5000, value: 21.5, special: null }] });
    expect(src.latest("a-1/dev/temp")?.value).toBe(21.5);
    // Within the poll interval nothing is fetched again.
    const n = fetchMock.mock.calls.length;
    src.flush();
    expect(fetchMock.mock.calls.length).toBe(n);
    expect(readingOf("p", { unit: null, point: { t: 7, v: null } }).special).toBe("special");
    expect(readingOf("p", { unit: null, point: null }).t).toBeNull();
  });
});
