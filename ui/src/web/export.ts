// The Viewer's export in the portal: the channels on its graph (the cloud
// channels overlaid, of one site or several) over its time range, as one
// ZIP of CSV files made by the cloud (`GET /channels/{ids}/zip`, the same
// grants as the API). The browser saves it as a download; the Viewer's
// export button calls this through the back end's `export` command.
import type { ExportView } from "../bindings";
import { overlay } from "../overlay";
import { zipUrl, type Handler } from "./backend";
import { apiFetchRaw } from "./http";

/** The file name the cloud gave (Content-Disposition), else a default. */
export function fileNameOf(disposition: string | null, fallback: string): string {
  const m = /filename="?([^";]+)"?/i.exec(disposition ?? "");
  return m ? m[1] : fallback;
}

/** Hands `blob` to the browser as a download named `name`. */
function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  // The download has its own copy once started.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export const exportHandlers: Record<string, Handler> = {
  export: async (a): Promise<ExportView> => {
    const ids = overlay.list.map((c) => c.id);
    if (!ids.length) throw new Error("nothing to export: add channels to the Viewer from the Agents screen first");
    const resp = await apiFetchRaw("GET", zipUrl(ids, Number(a.from), Number(a.to)).replace(/^\/api\/v1/, ""), undefined, {
      headers: { Accept: "application/zip" },
    });
    const blob = await resp.blob();
    const name = fileNameOf(resp.headers.get("Content-Disposition"), "meterdeck-export.zip");
    download(blob, name);
    return { path: name, channels: ids.length, samples: 0, rows: 0, bytes: blob.size };
  },
};
