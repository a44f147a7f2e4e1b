// Development stand-in for the report commands (part of the `?mock`
// backend): templates and runs in memory; "generate now" emits progress
// and adds a run after a moment.
import { emit } from "@tauri-apps/api/event";
import type { ReportRun, SavedTemplate } from "./api";

type Args = Record<string, unknown>;
const DAY = 86_400_000;

const templates: SavedTemplate[] = [
  {
    template: {
      name: "daily-boiler",
      title: "Boiler house – daily",
      channels: ["logger1/CH1_1", "logger1/CH1_2"],
      groups: [],
      stats: { thresholds: {} },
      include_alarms: true,
      logo: null,
      language: "en",
      paper: "a4",
      range: { kind: "previous_day" },
      time_zone: "Europe/Berlin",
    },
    schedule: { every: "daily", at: "06:00" },
    destinations: ["ops-mail"],
  },
];
const runs: ReportRun[] = [];
let nextRun = 1;

function midnight(): number {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

async function generate(name: string): Promise<ReportRun> {
  const steps = ["statistics", "graphs", "pdf", "csv"];
  for (let i = 0; i < steps.length; i++) {
    await new Promise((r) => setTimeout(r, 150));
    await emit("report-progress", { template: name, done: i + 1, total: steps.length, what: steps[i] });
  }
  const id = nextRun++;
  const run: ReportRun = {
    id,
    template: name,
    due: null,
    started: Date.now(),
    finished: Date.now(),
    from: midnight() - DAY,
    to: midnight(),
    status: "done",
    pdf: `/home/me/.local/share/meterdeck/reports/${name}/${name}-${id}.pdf`,
    csv: `/home/me/.local/share/meterdeck/reports/${name}/${name}-${id}.csv`,
    error: null,
    deliveries: [],
  };
  runs.unshift(run);
  return run;
}

export const reportCommands: Record<string, (a: Args) => unknown> = {
  report_templates: () => structuredClone(templates),
  report_template_save: (a) => {
    const s = a.saved as SavedTemplate;
    if (!s.template.name) throw JSON.stringify({ field: "template.name", message: "1 to 100 characters" });
    const at = templates.findIndex((x) => x.template.name === (a.replace ?? s.template.name));
    if (at >= 0) templates[at] = s;
    else templates.push(s);
    return null;
  },
  report_template_delete: (a) => {
    const at = templates.findIndex((x) => x.template.name === a.name);
    if (at >= 0) templates.splice(at, 1);
    return null;
  },
  report_runs: () => structuredClone(runs),
  report_generate: (a) => generate(String(a.name)),
  report_open: () => null,
  report_save_as: (a) => a.path,
};
