import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getLang, setLang } from "../src/i18n";
import { ApiHttpError, apiFetch, csrfToken, setOnUnauthorized } from "../src/web/http";

const fetchMock = vi.fn();
let cookie = "";

beforeEach(() => {
  fetchMock.mockReset();
  vi.stubGlobal("fetch", fetchMock);
  vi.stubGlobal("document", { get cookie() { return cookie; } });
  cookie = "other=1; md_csrf=tok%2Fen";
  setOnUnauthorized(null);
});
afterEach(() => vi.unstubAllGlobals());

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

describe("apiFetch", () => {
  it("reads the CSRF cookie", () => {
    expect(csrfToken()).toBe("tok/en");
  });

  it("GET: same origin, cookie credentials, no CSRF header, JSON back", async () => {
    fetchMock.mockResolvedValue(json(200, { agents: [] }));
    const r = await apiFetch<{ agents: unknown[] }>("GET", "/agents");
    expect(r).toEqual({ agents: [] });
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe("/api/v1/agents");
    expect(init.credentials).toBe("same-origin");
    expect(init.headers["X-CSRF-Token"]).toBeUndefined();
    expect(init.body).toBeUndefined();
  });

  it("asks for the page's language, so the cloud's errors come in it", async () => {
    const was = getLang();
    setLang("de");
    try {
      fetchMock.mockResolvedValue(json(200, {}));
      await apiFetch("GET", "/me");
      expect(fetchMock.mock.calls[0][1].headers["Accept-Language"]).toBe("de");
    } finally {
      setLang(was);
    }
  });

  it("POST: JSON body and the CSRF header", async () => {
    fetchMock.mockResolvedValue(new Response(null, { status: 204 }));
    const r = await apiFetch("post", "/users", { user: "bob" });
    expect(r).toBeUndefined();
    const [, init] = fetchMock.mock.calls[0];
    expect(init.method).toBe("POST");
    expect(init.headers["X-CSRF-Token"]).toBe("tok/en");
    expect(init.headers["Content-Type"]).toBe("application/json");
    expect(JSON.parse(init.body)).toEqual({ user: "bob" });
  });

  it("an error answer throws with the API's error text and status", async () => {
    fetchMock.mockResolvedValue(json(403, { error: "only an owner may do this", code: "x" }));
    const e = (await apiFetch("DELETE", "/users/bob").catch((x: unknown) => x)) as ApiHttpError;
    expect(e).toBeInstanceOf(ApiHttpError);
    expect(e.message).toBe("only an owner may do this");
    expect(e.status).toBe(403);
    expect(e.code).toBe("x");
  });

  it("401 calls the sign-out hook unless quiet", async () => {
    const hook = vi.fn();
    setOnUnauthorized(hook);
    fetchMock.mockResolvedValue(json(401, { error: "session expired" }));
    await expect(apiFetch("GET", "/me")).rejects.toThrow("session expired");
    expect(hook).toHaveBeenCalledTimes(1);
    fetchMock.mockResolvedValue(json(401, { error: "wrong password" }));
    await expect(apiFetch("POST", "/login", {}, { quiet401: true })).rejects.toThrow("wrong password");
    expect(hook).toHaveBeenCalledTimes(1);
  });

  it("a non-JSON error keeps its text", async () => {
    fetchMock.mockResolvedValue(new Response("gateway down", { status: 502 }));
    await expect(apiFetch("GET", "/agents")).rejects.toThrow("gateway down");
  });
});
