import { api, errorText, events, type ChannelRecord } from "../api";
import { overlay, overlayExtent, removeOverlay } from "../overlay";
import { clear, h, option, showError } from "../dom";
import { t, type Key } from "../i18n";
import { PALETTE, type AxisSetting } from "../plot";
import { app, stateDot, type Screen } from "../state";
import { formatDateTime, formatDateTimeMs } from "../time";
import { decodeFrame, shifted, toColumns, type Columns } from "../viewer/frame";
import { FetchCache, LatestOnly, type Answer } from "../viewer/latest";
import { ViewerPlot, type ViewerInput } from "../viewer/plot";
import { Timings, type Redraw } from "../viewer/timings";

const HOUR = 3_600_000;
const RANGES: [string, number | null][] = [
  ["1h", HOUR],
  ["6h", 6 * HOUR],
  ["1d", 24 * HOUR],
  ["1w", 7 * 24 * HOUR],
  ["all", null],
];
const OFFSETS: [string, number][] = [
  ["1h", HOUR],
  ["1d", 24 * HOUR],
  ["1w", 7 * 24 * HOUR],
];
const TABLE_LIMIT = 1000;
/** Frames kept for pans (the neighbours of the ranges looked at). */
const CACHE_FRAMES = 8;
/** How long a zoomed or panned range is shown before its neighbours are fetched. */
const PREFETCH_AFTER_MS = 250;

/** What one redraw asks for. */
interface Query {
  ids: number[];
  from: number;
  to: number;
  quick: string | null;
  compare: boolean;
  offset: number;
  width: number;
  cloud: string[];
  /** A user's action (not the 10 s follow-up of a quick range): fetch the pan neighbours after. */
  prefetch: boolean;
}

/** One decoded frame: its columns, its size and how long reading it took. */
interface Frame {
  cols: Columns[];
  bytes: number;
  decodeMs: number;
}

interface Fetched {
  from: number;
  to: number;
  main: Columns[];
  cmp: Columns[];
  cloud: PromiseSettledResult<Columns>[];
}

export function viewerScreen(): Screen {
  let channels: ChannelRecord[] = [];
  // Not persisted: channel ids belong to one store, and a fresh window
  // should start from a known state.
  const selected: number[] = [];
  let to = Date.now();
  let from = to - HOUR;
  let quick: string | null = "1h";
  const zoomStack: [number, number, string | null][] = [];
  let compare = false;
  let offset = 24 * HOUR;
  const axes = new Map<string, AxisSetting>();
  let showTable = false;

  const err = h("div", { class: "error", testid: "viewer-error", hidden: true });
  const tree = h("div", { class: "tree" });
  const rangeBtns = new Map<string, HTMLButtonElement>();
  const rangeBar = h("div", { class: "seg" });
  for (const [name, span] of RANGES) {
    const b = h("button", { testid: `range-${name}` }, t(`viewer.range.${name}` as Key));
    b.addEventListener("click", () => {
      zoomStack.length = 0;
      quick = name;
      to = Date.now();
      from = span === null ? 0 : to - span;
      refresh();
    });
    rangeBtns.set(name, b);
    rangeBar.append(b);
  }
  const rangeLabel = h("span", { class: "range-label num" });
  // Pan by half the range; the neighbours are fetched ahead, so a pan
  // usually draws from the cache.
  const panBtn = (dir: -1 | 1, testid: string, label: string, title: Key): HTMLButtonElement => {
    const b = h("button", { testid, title: t(title), "aria-label": t(title) }, label);
    b.addEventListener("click", () => {
      [from, to] = panned(dir);
      quick = null;
      refresh();
    });
    return b;
  };
  const panBar = h("div", { class: "seg" }, panBtn(-1, "viewer-pan-left", "◀", "viewer.panLeft"), panBtn(1, "viewer-pan-right", "▶", "viewer.panRight"));

  const compareBox = h("input", { type: "checkbox", testid: "viewer-compare" });
  const offsetSel = h("select", { class: "offset", title: t("viewer.offset") }, ...OFFSETS.map(([k, v]) => option(String(v), t(`viewer.offset.${k}` as Key), v === offset)));
  compareBox.addEventListener("change", () => {
    compare = compareBox.checked;
    refresh();
  });
  offsetSel.addEventListener("change", () => {
    offset = Number(offsetSel.value);
    if (compare) refresh();
  });

  const axisBar = h("div", { class: "axis-bar" });
  const plotBox = h("div", { class: "plot-box", testid: "viewer-plot" });
  const placeholder = h("div", { class: "plot-empty" }, t("viewer.noChannels"));
  const readout = h("div", { class: "readout", testid: "viewer-readout" });
  const tableToggle = h("button", { testid: "viewer-table-toggle" }, t("viewer.table"));
  const tableHost = h("div", { class: "table-host", hidden: true });
  tableToggle.addEventListener("click", () => {
    showTable = !showTable;
    tableToggle.textContent = showTable ? t("viewer.hideTable") : t("viewer.table");
    tableToggle.classList.toggle("active", showTable);
    tableHost.hidden = !showTable;
    if (showTable) void loadTable();
  });

  // export
  const exportPath = h("input", { testid: "export-path", placeholder: t("viewer.exportPath"), size: 34 });
  const exportBtn = h("button", { testid: "export-button" }, t("viewer.export"));
  const exportProgress = h("progress", { testid: "export-progress", max: 1, value: 0, hidden: true });
  const exportDone = h("span", { class: "ok", testid: "export-done", hidden: true });
  const exportErr = h("span", { class: "error", testid: "export-error", hidden: true });
  exportBtn.addEventListener("click", async () => {
    showError(exportErr, null);
    exportDone.hidden = true;
    exportProgress.hidden = false;
    exportProgress.value = 0;
    exportBtn.disabled = true;
    const unlisten = await events.exportProgress((p) => {
      exportProgress.max = Math.max(1, p.total);
      exportProgress.value = p.done;
    }).catch(() => null);
    try {
      const s = await api.exportData([...selected], from, to, exportPath.value);
      exportDone.textContent = t("viewer.exportDone", { path: s.path });
      exportDone.hidden = false;
      exportProgress.value = exportProgress.max;
    } catch (e) {
      showError(exportErr, errorText(e));
      exportProgress.hidden = true;
    } finally {
      unlisten?.();
      exportBtn.disabled = false;
    }
  });

  const timings = new Timings();
  /** The redraws painted, oldest first (a test checks no stale answer is painted). */
  const paints: { gen: number; from: number; to: number }[] = [];
  Object.defineProperty(plotBox, "timings", { get: () => timings.log });
  Object.defineProperty(plotBox, "paints", { get: () => paints });
  /** The newest request (its generation and range), for the same tests. */
  let requested: { gen: number; from: number; to: number; quick: string | null } | null = null;
  Object.defineProperty(plotBox, "requested", { get: () => requested });
  Object.defineProperty(plotBox, "dropped", { get: () => loader.dropped });
  /** A request or a prefetch is running (the figures measure from an idle Viewer). */
  Object.defineProperty(plotBox, "busy", { get: () => loader.busy || prefetching });
  const plot = new ViewerPlot(plotBox, readout, {
    onZoom(a, b) {
      zoomStack.push([from, to, quick]);
      from = a;
      to = b;
      quick = null;
      refresh();
    },
    onZoomOut() {
      const prev = zoomStack.pop();
      if (!prev) return;
      [from, to, quick] = prev;
      refresh();
    },
    onDrawn(gen) {
      plotBox.dataset.drawn = String(gen);
      timings.drawn(gen, (r: Redraw) => {
        paints.push({ gen: r.gen, from: r.from, to: r.to });
        if (paints.length > 200) paints.shift();
      });
    },
  });
  Object.defineProperty(plotBox, "plotBuilds", { get: () => plot.builds });
  plotBox.append(placeholder);

  const root = h(
    "section",
    { class: "screen viewer", testid: "screen-viewer" },
    h(
      "div",
      { class: "viewer-body" },
      h("aside", { class: "tree-col" }, h("h3", {}, t("viewer.channels")), tree),
      h(
        "div",
        { class: "viewer-main" },
        h(
          "div",
          { class: "toolbar" },
          rangeBar,
          panBar,
          rangeLabel,
          h("span", { class: "spacer" }),
          h("label", { class: "check" }, compareBox, t("viewer.compare")),
          offsetSel,
        ),
        axisBar,
        err,
        plotBox,
        readout,
        h(
          "div",
          { class: "toolbar bottom" },
          tableToggle,
          h("span", { class: "spacer" }),
          exportPath,
          exportBtn,
          exportProgress,
          exportDone,
          exportErr,
        ),
        tableHost,
      ),
    ),
  );

  function unitOf(id: number): string {
    return channels.find((c) => c.id === id)?.unit ?? "";
  }

  function colorOf(id: number): string {
    return PALETTE[selected.indexOf(id) % PALETTE.length];
  }

  /** Cloud channels take the colours after the local ones. */
  function cloudColor(id: string): string {
    return PALETTE[(selected.length + overlay.list.findIndex((c) => c.id === id)) % PALETTE.length];
  }

  /** The cloud channels overlaid (added on the Cloud screen), each removable here. */
  function renderCloudTree(): void {
    if (!overlay.list.length) return;
    const items = overlay.list.map((c) => {
      const rm = h("button", { class: "small", testid: "viewer-cloud-remove", title: t("viewer.cloudRemove"), "data-channel": c.id }, "×");
      rm.addEventListener("click", () => {
        removeOverlay(c.id);
        renderTree();
        renderAxes();
        refresh();
      });
      return h(
        "div",
        { class: "leaf cloud-leaf", testid: "viewer-cloud-channel", "data-channel": c.id, title: c.label },
        h("i", { class: "swatch", style: `background:${cloudColor(c.id)}` }),
        // Two lines (site, then path): the tree is too narrow for the label on one.
        h("span", { class: "leaf-name cloud-name" }, h("span", { class: "muted cloud-site" }, c.site), h("span", {}, c.path)),
        h("span", { class: "muted unit" }, c.unit),
        rm,
      );
    });
    tree.append(
      h(
        "details",
        { class: "group cloud-group", open: true, testid: "viewer-cloud-group" },
        h("summary", {}, h("strong", {}, t("viewer.cloudGroup")), h("span", { class: "muted count" }, String(overlay.list.length))),
        ...items,
        h("div", { class: "muted small" }, t("viewer.cloudLocalOnly")),
      ),
    );
  }

  function renderTree(): void {
    clear(tree);
    const groups = new Map<string, ChannelRecord[]>();
    for (const c of channels) {
      const g = groups.get(c.instrument) ?? [];
      g.push(c);
      groups.set(c.instrument, g);
    }
    for (const [inst, list] of groups) {
      const iv = app.instruments.find((i) => i.config.id === inst);
      const items = list.map((c) => {
        const path = `${c.instrument}/${c.channel}`;
        const box = h("input", { type: "checkbox", testid: "channel-check", "data-path": path, "data-id": c.id, checked: selected.includes(c.id) });
        box.addEventListener("change", () => {
          const k = selected.indexOf(c.id);
          if (box.checked && k < 0) selected.push(c.id);
          if (!box.checked && k >= 0) selected.splice(k, 1);
          paintSwatches();
          renderAxes();
          refresh();
        });
        const k = selected.indexOf(c.id);
        return h(
          "label",
          { class: "leaf" },
          box,
          h("i", { class: "swatch", "data-id": c.id, style: k >= 0 ? `background:${colorOf(c.id)}` : "" }),
          h("span", { class: "leaf-name" }, c.channel),
          h("span", { class: "muted unit" }, c.unit ?? ""),
        );
      });
      tree.append(
        h(
          "details",
          { class: "group", open: true },
          h("summary", {}, iv ? stateDot(iv.state) : null, h("strong", {}, iv?.config.name || inst), h("span", { class: "muted count" }, String(list.length))),
          ...items,
        ),
      );
    }
    if (!channels.length && !overlay.list.length) tree.append(h("div", { class: "muted" }, t("common.empty")));
    renderCloudTree();
  }

  /** Colours follow the selection order; the tree itself is not rebuilt
   * (element references held by the user or a test stay valid). */
  function paintSwatches(): void {
    tree.querySelectorAll<HTMLElement>("i.swatch[data-id]").forEach((el) => {
      const id = Number(el.dataset.id);
      el.style.background = selected.includes(id) ? colorOf(id) : "";
    });
    tree.querySelectorAll<HTMLElement>(".cloud-leaf[data-channel]").forEach((el) => {
      const sw = el.querySelector<HTMLElement>("i.swatch");
      if (sw) sw.style.background = cloudColor(el.dataset.channel ?? "");
    });
  }

  function renderAxes(): void {
    clear(axisBar);
    const units = [...new Set([...selected.map(unitOf), ...overlay.list.map((c) => c.unit)])];
    for (const unit of units) {
      const a = axes.get(unit) ?? { mode: "auto", min: null, max: null };
      axes.set(unit, a);
      const mode = h("select", { testid: "axis-mode", "data-unit": unit }, option("auto", t("viewer.axisAuto"), a.mode === "auto"), option("fixed", t("viewer.axisFixed"), a.mode === "fixed"));
      const min = h("input", { testid: "axis-min", "data-unit": unit, class: "narrow", placeholder: t("viewer.axisMin"), value: a.min ?? "", disabled: a.mode === "auto", inputmode: "decimal" });
      const max = h("input", { testid: "axis-max", "data-unit": unit, class: "narrow", placeholder: t("viewer.axisMax"), value: a.max ?? "", disabled: a.mode === "auto", inputmode: "decimal" });
      const apply = (): void => {
        a.mode = mode.value === "fixed" ? "fixed" : "auto";
        const pmin = parseFloat(min.value);
        const pmax = parseFloat(max.value);
        a.min = Number.isFinite(pmin) ? pmin : null;
        a.max = Number.isFinite(pmax) ? pmax : null;
        min.disabled = max.disabled = a.mode === "auto";
        plot.setAxes(axes);
      };
      mode.addEventListener("change", apply);
      min.addEventListener("change", apply);
      max.addEventListener("change", apply);
      axisBar.append(h("span", { class: "axis-item" }, h("span", { class: "axis-unit" }, t("viewer.axis"), " ", unit || t("viewer.unitless")), mode, min, max));
    }
  }

  let lastMain: Columns[] = [];
  let lastCompare: Columns[] = [];
  /** Cloud series by overlay channel id. */
  let lastCloud = new Map<string, Columns>();

  function draw(gen: number): void {
    const inputs: ViewerInput[] = [];
    const label = (id: number): string => {
      const c = channels.find((x) => x.id === id);
      return c ? `${c.instrument}/${c.channel}` : String(id);
    };
    for (const v of lastMain) inputs.push({ key: `m${v.channelId}`, label: label(v.channelId), unit: unitOf(v.channelId), color: colorOf(v.channelId), cols: v });
    for (const v of lastCompare) {
      inputs.push({
        key: `c${v.channelId}`,
        label: `${label(v.channelId)} ${t("viewer.compareSuffix")}`,
        unit: unitOf(v.channelId),
        color: colorOf(v.channelId),
        cols: shifted(v, offset),
        compare: true,
      });
    }
    overlay.list.forEach((c, k) => {
      const v = lastCloud.get(c.id);
      if (v) inputs.push({ key: `x${k}:${c.id}`, label: c.label, unit: c.unit, color: cloudColor(c.id), cols: v });
    });
    placeholder.hidden = inputs.length > 0;
    timings.setData(gen, from, to);
    plot.setData(inputs, from, to, axes, gen);
  }

  function paintRange(): void {
    for (const [name, b] of rangeBtns) b.classList.toggle("active", name === quick);
    rangeLabel.textContent = `${formatDateTime(from)} — ${formatDateTime(to)}`;
  }

  /** The range one pan step away (half the range's length). */
  function panned(dir: -1 | 1, f = from, tt = to): [number, number] {
    const step = Math.max(1, Math.round((tt - f) / 2));
    return [f + dir * step, tt + dir * step];
  }

  // Frames by channels, range and width. A range reaching into the last
  // minute is live (new samples arrive): kept only a moment.
  const cache = new FetchCache<Frame>(CACHE_FRAMES, (key, at) => {
    const to = Number(key.split("|")[2]);
    return to > at - 60_000 ? 2_000 : 60_000;
  });
  const frameKey = (ids: number[], a: number, b: number, width: number): string => `${ids.join(",")}|${a}|${b}|${width}`;

  function frame(ids: number[], a: number, b: number, width: number): Promise<Frame> {
    return cache.get(frameKey(ids, a, b, width), async () => {
      const buf = await api.seriesFrame(ids, a, b, width);
      const t0 = performance.now();
      const cols = decodeFrame(buf);
      return { cols, bytes: buf.byteLength, decodeMs: performance.now() - t0 };
    });
  }

  async function fetchQuery(q: Query, gen: number): Promise<Fetched> {
    timings.start(gen);
    let { from: f, to: tt } = q;
    if (q.quick === "all") {
      // Exactly the stored span, so the plot's buckets cover only data.
      const local = q.ids.length ? await api.seriesExtent(q.ids) : null;
      const spans = [local, overlayExtent()].filter((x): x is { from: number; to: number } => x !== null);
      if (spans.length) [f, tt] = [Math.min(...spans.map((x) => x.from)), Math.max(...spans.map((x) => x.to))];
    }
    const none: Promise<Frame> = Promise.resolve({ cols: [], bytes: 0, decodeMs: 0 });
    // Each cloud channel on its own: one unreachable site does not blank the others.
    const [main, cmp, cloud] = await Promise.all([
      q.ids.length ? frame(q.ids, f, tt, q.width) : none,
      q.compare && q.ids.length ? frame(q.ids, f - q.offset, tt - q.offset, q.width) : none,
      Promise.allSettled(q.cloud.map((id, k) => api.cloudSeries(id, f, tt, q.width).then((r) => toColumns(-(k + 1), r)))),
    ]);
    timings.ipcDone(gen);
    timings.decoded(gen, main.decodeMs + cmp.decodeMs, main.bytes + cmp.bytes);
    return { from: f, to: tt, main: main.cols, cmp: cmp.cols, cloud };
  }

  const loader = new LatestOnly<Query, Fetched>(
    (q, gen) => fetchQuery(q, gen),
    (r: Answer<Query, Fetched>) => applyAnswer(r),
    (e) => showError(err, errorText(e)),
  );

  function applyAnswer({ q, a, gen }: Answer<Query, Fetched>): void {
    if (q.quick === "all") {
      from = a.from;
      to = a.to;
      paintRange();
    }
    lastMain = a.main;
    lastCompare = a.cmp;
    lastCloud = new Map();
    const failed: string[] = [];
    a.cloud.forEach((r, k) => {
      const c = overlay.list.find((x) => x.id === q.cloud[k]);
      if (r.status === "fulfilled") lastCloud.set(q.cloud[k], r.value);
      else failed.push(`${c?.label ?? q.cloud[k]}: ${errorText(r.reason)}`);
    });
    showError(err, failed.length ? failed.join(" · ") : null);
    draw(gen);
    if (showTable) void loadTable();
    // After a zoom or pan (where the next step is likely a pan), the
    // neighbours are fetched once the user has looked a moment.
    if (q.prefetch && q.ids.length && q.quick === null) setTimeout(() => void prefetch(q, a, gen), PREFETCH_AFTER_MS);
  }

  let prefetching = false;
  /** The ranges a pan either way would show, one at a time, given up as
   * soon as a newer request is made (core answers that one first). */
  async function prefetch(q: Query, a: Fetched, gen: number): Promise<void> {
    if (prefetching) return;
    prefetching = true;
    try {
      for (const dir of [-1, 1] as const) {
        if (loader.newest !== gen || loader.busy) return;
        const [pa, pb] = panned(dir, a.from, a.to);
        // Errors show when the user pans there.
        await frame(q.ids, pa, pb, q.width).catch(() => undefined);
      }
    } finally {
      prefetching = false;
    }
  }

  /** Asks for the current range; the newest request wins (see LatestOnly). */
  function refresh(prefetch = true): void {
    if (quick) {
      const span = RANGES.find(([n]) => n === quick)?.[1];
      to = Date.now();
      if (span) from = to - span;
    }
    paintRange();
    if (!selected.length && !overlay.list.length) {
      loader.cancel();
      lastMain = [];
      lastCompare = [];
      lastCloud = new Map();
      plot.clear();
      placeholder.hidden = false;
      if (showTable) clear(tableHost);
      return;
    }
    const gen = loader.request({
      ids: [...selected],
      from,
      to,
      quick,
      compare,
      offset,
      width: plot.width(),
      cloud: overlay.list.map((c) => c.id),
      prefetch,
    });
    requested = { gen, from, to, quick };
  }

  async function loadTable(): Promise<void> {
    clear(tableHost);
    if (!selected.length) return;
    try {
      const tv = await api.table([...selected], from, to, TABLE_LIMIT);
      const table = h(
        "table",
        { class: "grid", testid: "viewer-table" },
        h("thead", {}, h("tr", {}, h("th", {}, t("viewer.time")), ...tv.columns.map((c) => h("th", { class: "num" }, c)))),
        h(
          "tbody",
          {},
          ...tv.rows.map(([ts, vals]) => h("tr", {}, h("td", { class: "num" }, formatDateTimeMs(ts)), ...vals.map((v) => h("td", { class: "num" }, v ?? "")))),
        ),
      );
      tableHost.append(table);
      if (tv.truncated) tableHost.append(h("div", { class: "muted" }, t("viewer.truncated", { n: tv.rows.length })));
    } catch (e) {
      tableHost.append(h("div", { class: "error" }, errorText(e)));
    }
  }

  let ticks = 0;
  return {
    root,
    async show() {
      try {
        channels = await api.channels();
        for (let k = selected.length - 1; k >= 0; k--) if (!channels.some((c) => c.id === selected[k])) selected.splice(k, 1);
        showError(err, null);
      } catch (e) {
        showError(err, errorText(e));
      }
      renderTree();
      renderAxes();
      refresh();
    },
    tick() {
      // quick ranges follow "now"
      if (++ticks % 10 === 0 && quick && quick !== "all" && (selected.length || overlay.list.length)) refresh(false);
    },
  };
}
