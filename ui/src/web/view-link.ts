// The view-only alarm page (issue 16, SPEC 5.5): `/v/<token>` from an
// alarm message opens the alarm's channels around its time without signing
// in (`GET /api/v1/view/{token}`). Read-only and alone: no nav, no links to
// the rest of the portal. Drag zooms inside the link's window (the API
// refuses anything outside it), double click goes back. An expired or
// altered link gets a page that says which.
import { clear, h } from "../dom";
import { t } from "../i18n";
import { PALETTE } from "../plot";
import { formatDateTime } from "../time";
import { toColumns } from "../viewer/frame";
import { ViewerPlot, type ViewerInput } from "../viewer/plot";
import { toSeries } from "./backend";
import { ApiHttpError, apiFetch } from "./http";

interface Bucket {
  t_start: number;
  t_end: number;
  count: number;
  min: { t: number; v?: number | null } | null;
  max: { t: number; v?: number | null } | null;
}

/** `GET /api/v1/view/{token}`'s answer. */
export interface ViewReply {
  agent: { id: string; name: string };
  alarm: { id: string; name: string; at: number };
  from: number;
  to: number;
  window_from: number;
  window_to: number;
  expires_ms: number;
  channels: { path: string; unit: string | null; buckets: Bucket[] }[];
}

/** The token of a `/v/<token>` path, else null. */
export function viewToken(pathname: string): string | null {
  const m = /^\/v\/([^/]+)\/?$/.exec(pathname);
  return m ? decodeURIComponent(m[1]) : null;
}

function fetchView(token: string, from?: number, to?: number, buckets?: number): Promise<ViewReply> {
  const q = new URLSearchParams();
  if (from !== undefined) q.set("from", String(Math.floor(from)));
  if (to !== undefined) q.set("to", String(Math.ceil(to)));
  if (buckets !== undefined) q.set("buckets", String(Math.min(20000, Math.max(1, Math.round(buckets)))));
  const qs = q.toString();
  return apiFetch<ViewReply>("GET", `/view/${encodeURIComponent(token)}${qs ? `?${qs}` : ""}`, undefined, { quiet401: true });
}

function inputs(v: ViewReply): ViewerInput[] {
  return v.channels.map((c, k) => ({
    key: c.path,
    label: c.path,
    unit: c.unit ?? "",
    color: PALETTE[k % PALETTE.length],
    cols: toColumns(-(k + 1), toSeries(c.buckets)),
  }));
}

/** The card saying why a link does not open (expired, altered, other). */
function refusedPage(root: HTMLElement, e: unknown): void {
  const code = e instanceof ApiHttpError ? e.code : undefined;
  const [testid, title, text] =
    code === "link_expired"
      ? ["view-expired", t("view.expiredTitle"), t("view.expiredText")]
      : code === "link_altered"
        ? ["view-altered", t("view.alteredTitle"), t("view.alteredText")]
        : ["view-failed", t("view.failedTitle"), e instanceof Error ? e.message : String(e)];
  clear(root);
  root.append(
    h(
      "div",
      { class: "portal-page", testid, "data-code": code ?? "" },
      h(
        "div",
        { class: "portal-card panel" },
        h("div", { class: "brand portal-brand" }, h("span", { class: "logo" }, "▮▮"), t("app.title")),
        h("h2", {}, title),
        h("p", { testid: "view-refused-text" }, text),
      ),
    ),
  );
  document.documentElement.dataset.ready = "1";
}

/** Shows the link `token` in `root`. */
export async function viewLinkPage(root: HTMLElement, token: string): Promise<void> {
  let first: ViewReply;
  try {
    first = await fetchView(token);
  } catch (e) {
    refusedPage(root, e);
    return;
  }
  clear(root);
  const plotBox = h("div", { class: "plot-box", testid: "view-plot" });
  const readout = h("div", { class: "readout", testid: "view-readout" });
  const windowText = h("span", { class: "muted", testid: "view-window" });
  const empty = h("div", { class: "muted", testid: "view-empty", hidden: first.channels.length > 0 }, t("view.noChannels"));
  const header = h(
    "header",
    { class: "topbar" },
    h("div", { class: "brand" }, h("span", { class: "logo" }, "▮▮"), t("app.title")),
    h("span", { class: "muted", testid: "view-readonly" }, t("view.readOnly", { until: formatDateTime(first.expires_ms) })),
  );
  const facts = h(
    "div",
    { class: "view-facts" },
    h("h2", { testid: "view-alarm" }, t("view.title", { alarm: first.alarm.name || first.alarm.id })),
    h("span", { testid: "view-site" }, t("view.site", { site: first.agent.name })),
    h("span", { testid: "view-alarm-at" }, t("view.alarmAt", { time: formatDateTime(first.alarm.at) })),
    windowText,
  );
  const legend = h(
    "div",
    { class: "view-legend", testid: "view-channels" },
    ...first.channels.map((c, k) =>
      h("span", { class: "ro-item", testid: "view-channel", "data-path": c.path }, h("i", { class: "swatch", style: `background:${PALETTE[k % PALETTE.length]}` }), c.unit ? `${c.path} (${c.unit})` : c.path),
    ),
  );
  root.append(h("div", { class: "shell view-link", testid: "view-page" }, header, h("main", { class: "content view-body" }, facts, legend, empty, plotBox, readout)));

  const zooms: [number, number][] = [];
  let gen = 0;
  const draw = (v: ViewReply): void => {
    windowText.textContent = t("view.window", { from: formatDateTime(v.from), to: formatDateTime(v.to) });
    plot.setData(inputs(v), v.from, v.to, new Map(), ++gen);
  };
  const load = (from: number, to: number): void => {
    const mine = gen + 1;
    fetchView(token, from, to, plot.width())
      .then((v) => {
        if (mine > gen) draw(v);
      })
      .catch((e: unknown) => refusedPage(root, e));
  };
  const plot: ViewerPlot = new ViewerPlot(plotBox, readout, {
    onZoom(a, b) {
      zooms.push([a, b]);
      load(a, b);
    },
    onZoomOut() {
      zooms.pop();
      const back = zooms[zooms.length - 1] ?? [first.window_from, first.window_to];
      load(back[0], back[1]);
    },
  });
  draw(first);
  document.documentElement.dataset.ready = "1";
}
