import { afterEach, describe, expect, it, vi } from "vitest";
import { apiFetch, ApiError } from "./client";
import { LosslessNumber } from "./json";

function answer(status: number, body: string) {
  const fetch = vi.fn<typeof globalThis.fetch>(async () => new Response(body, { status }));
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("apiFetch", () => {
  it("sends JSON and reads JSON", async () => {
    const fetch = answer(201, '{"database": {"id": "d1", "port": 5432}}');
    const body = await apiFetch<{ database: { port: number } }>("/api/databases", {
      method: "POST",
      body: JSON.stringify({ host: "db" }),
    });
    expect(body).toEqual({ database: { id: "d1", port: 5432 } });
    const [path, init] = fetch.mock.calls[0] ?? [];
    expect(path).toBe("/api/databases");
    expect(init).toMatchObject({ method: "POST", headers: { "content-type": "application/json" } });
  });

  it("reads lossless bodies without losing a digit, and numbers JavaScript wrote as numbers", async () => {
    answer(200, '{"changes": [{"seq": 3, "after": {"id": 9223372036854775807, "price": 24.50}}]}');
    expect(await apiFetch("/api/changes", { format: "lossless" })).toEqual({
      changes: [
        { seq: 3, after: { id: new LosslessNumber("9223372036854775807"), price: new LosslessNumber("24.50") } },
      ],
    });
  });

  it("throws one ApiError with the envelope's code, message, details and id", async () => {
    answer(
      422,
      '{"error": {"code": "wal_level_not_logical", "message": "Logical replication is off.", ' +
        '"details": {"fix": "ALTER SYSTEM SET wal_level = logical;"}}}',
    );
    const error = await apiFetch("/api/databases", { method: "POST" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 422,
      code: "wal_level_not_logical",
      message: "Logical replication is off.",
      details: { fix: "ALTER SYSTEM SET wal_level = logical;" },
    });

    answer(500, '{"error": {"code": "internal", "message": "Something went wrong (error id e1).", "id": "e1"}}');
    expect(await apiFetch("/api/changes", { format: "lossless" }).catch((e: unknown) => e)).toMatchObject({
      status: 500,
      code: "internal",
      id: "e1",
    });
  });

  it("stands in for an envelope that is not there", async () => {
    answer(502, "<html>Bad gateway</html>");
    expect(await apiFetch("/api/changes").catch((e: unknown) => e)).toMatchObject({
      status: 502,
      code: "http_error",
      message: "Request failed with status 502",
    });
  });
});
