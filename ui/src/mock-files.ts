// Development stand-in for the Files screen's commands (part of the `?mock`
// backend): a few collected files, the cloud's copies, and a fetch or
// download that emits progress. The backend's rules are not copied here.
import { emit } from "@tauri-apps/api/event";
import type { CloudFile, LocalFileView } from "./api";

type Args = Record<string, unknown>;
const MIN = 60_000;
const now = Date.now();

const local: LocalFileView[] = [
  { id: 3, instrument: "logger1", name: "/DATA/2026-12-07/BIG.MEM", size: 135_266_304, time: now - 5 * MIN, status: "too-large", reason: "not fetched automatically: 135266304 bytes (129.0 MB) is over the 128 MB automatic limit", sha256: null, cloudId: null, fetchable: true, uploadable: false },
  { id: 2, instrument: "logger1", name: "/DATA/2026-12-07/W0002.MEM", size: 1_200_000, time: now - 9 * MIN, status: "uploaded", reason: null, sha256: "af9e1732a8fc".padEnd(64, "0"), cloudId: "f2", fetchable: false, uploadable: false },
  { id: 1, instrument: "logger1", name: "/DATA/2026-12-07/W0001.MEM", size: 300_000, time: now - 12 * MIN, status: "deleted-on-instrument", reason: null, sha256: "ab156dc4a83a".padEnd(64, "0"), cloudId: "f1", fetchable: false, uploadable: false },
];
const cloud: CloudFile[] = [
  { id: "f2", agent: "a-0000000000000001", instrument: "logger1", name: "/DATA/2026-12-07/W0002.MEM", size: 1_200_000, sha256: "af9e1732a8fc".padEnd(64, "0"), uploaded_ms: now - 8 * MIN },
  { id: "f1", agent: "a-0000000000000001", instrument: "logger1", name: "/DATA/2026-12-07/W0001.MEM", size: 300_000, sha256: "ab156dc4a83a".padEnd(64, "0"), uploaded_ms: now - 11 * MIN },
];

async function progress(kind: string, name: string, total: number): Promise<void> {
  for (let i = 1; i <= 5; i++) {
    await new Promise((r) => setTimeout(r, 120));
    await emit("file-progress", { kind, name, done: Math.round((total * i) / 5), total });
  }
}

export const fileCommands: Record<string, (a: Args) => unknown> = {
  files_local: (a) => local.filter((f) => !a.instrument || f.instrument === a.instrument),
  files_fetch: async (a) => {
    const f = local.find((x) => x.name === a.name);
    if (!f) throw `no file ${String(a.name)}`;
    await progress("fetch", f.name, f.size);
    Object.assign(f, { status: "fetched", reason: null, fetchable: false, uploadable: true, time: Date.now() });
    return f;
  },
  files_upload: (a) => {
    const f = local.find((x) => x.id === a.id);
    if (!f) throw `no local file with id ${String(a.id)}`;
    Object.assign(f, { status: "uploaded", uploadable: false });
    return f;
  },
  files_open_folder: () => "/home/operator/.local/share/meterdeck/files",
  cloud_files: (a) => cloud.filter((f) => !a.instrument || f.instrument === a.instrument),
  cloud_file_download: async (a) => {
    const f = cloud.find((x) => x.id === a.id);
    if (!f) throw `file ${String(a.id)} not found`;
    await progress("download", f.id, f.size);
    return `/home/operator/.local/share/meterdeck/downloads/${f.name.split("/").pop()}`;
  },
};
