// The browser's one way to the cloud's REST API (`/api/v1` on the origin
// that served the page). The session is an HttpOnly cookie the page never
// sees; state-changing requests also carry the CSRF token, which the cloud
// sets as the readable cookie `md_csrf` at sign-in (double submit: another
// site can make the browser send the cookie, but cannot read it to copy it
// into the header). No token is ever kept in localStorage.

import { getLang } from "../i18n";

export const API_BASE = "/api/v1";
export const CSRF_COOKIE = "md_csrf";
export const CSRF_HEADER = "X-CSRF-Token";

/** An error answer from the API: `message` is its `error` text. */
export class ApiHttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = "ApiHttpError";
  }
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** Called on a 401 for a signed-in call (session expired or revoked), so
 *  the app can go back to the sign-in page. Sign-in calls themselves pass
 *  `{ quiet401: true }`. */
let onUnauthorized: ((e: ApiHttpError) => void) | null = null;
export function setOnUnauthorized(f: ((e: ApiHttpError) => void) | null): void {
  onUnauthorized = f;
}

/** The CSRF cookie's value, or "" before sign-in. */
export function csrfToken(doc: Pick<Document, "cookie"> = document): string {
  for (const part of doc.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === CSRF_COOKIE) return decodeURIComponent(v.join("="));
  }
  return "";
}

export interface FetchOptions {
  /** Do not call the 401 hook (sign-in, reset, /me probe at start). */
  quiet401?: boolean;
  /** Extra headers (e.g. Accept for a CSV export). */
  headers?: Record<string, string>;
}

/** The raw Response of a call, for downloads (CSV, ZIP); error answers
 *  throw like `apiFetch`. */
export async function apiFetchRaw(
  method: string,
  path: string,
  body?: unknown,
  opts: FetchOptions = {},
): Promise<Response> {
  const m = method.toUpperCase();
  // The cloud answers its errors in this language (the page's, not the browser's).
  const headers: Record<string, string> = {
    Accept: "application/json",
    "Accept-Language": getLang(),
    ...opts.headers,
  };
  let payload: BodyInit | undefined;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  if (!SAFE.has(m)) {
    const t = csrfToken();
    if (t) headers[CSRF_HEADER] = t;
  }
  let resp: Response;
  try {
    resp = await fetch(API_BASE + path, {
      method: m,
      headers,
      body: payload,
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (e) {
    throw new ApiHttpError(`the cloud could not be reached: ${String(e)}`, 0);
  }
  if (!resp.ok) {
    const err = await errorOf(resp);
    if (resp.status === 401 && !opts.quiet401 && onUnauthorized) onUnauthorized(err);
    throw err;
  }
  return resp;
}

/** `method` `/api/v1` + `path` with `body` as JSON; the JSON answer (or
 *  undefined for 204 / an empty body). Throws `ApiHttpError` whose message
 *  is the API's error text. */
export async function apiFetch<T>(
  method: string,
  path: string,
  body?: unknown,
  opts: FetchOptions = {},
): Promise<T> {
  const resp = await apiFetchRaw(method, path, body, opts);
  if (resp.status === 204) return undefined as T;
  const text = await resp.text();
  if (text === "") return undefined as T;
  const type = resp.headers.get("Content-Type") ?? "";
  if (!type.includes("json")) return text as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiHttpError(`the cloud answered ${path} with JSON that does not parse`, resp.status);
  }
}

async function errorOf(resp: Response): Promise<ApiHttpError> {
  const text = await resp.text().catch(() => "");
  try {
    const j = JSON.parse(text) as { error?: unknown; code?: unknown };
    if (typeof j.error === "string") {
      return new ApiHttpError(j.error, resp.status, typeof j.code === "string" ? j.code : undefined, j);
    }
  } catch {
    /* not JSON: fall through */
  }
  const msg = text.trim() || `${resp.status} ${resp.statusText}`.trim();
  return new ApiHttpError(msg, resp.status);
}
