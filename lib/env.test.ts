import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

const saved = { ...process.env };
const SECRET = "s".repeat(40);

/** lib/env.ts as a freshly started process sees it. */
async function freshEnv() {
  vi.resetModules();
  return (await import("./env")).env;
}

beforeEach(() => {
  for (const key of [
    "DATABASE_URL",
    "RETRACE_SECRET",
    "LOG_LEVEL",
    "RETRACE_DATA_DIR",
    "WORKER_METRICS_PORT",
    "RETRACE_ALLOW_LOCAL_SOURCES",
    "RETRACE_ALLOW_SOCKET_SOURCES",
    "RETRACE_SOURCE_QUERY_TIMEOUT_SECONDS",
    "RETRACE_STORE_SSL_ROOT_CERT",
    "RETRACE_TRUSTED_PROXIES",
  ]) {
    delete process.env[key];
  }
});

afterEach(() => {
  process.env = { ...saved };
});

describe("env", () => {
  it("is imported without any variable set, and fails only when a process reads its own schema", async () => {
    const env = await freshEnv();
    expect(env.log.LOG_LEVEL).toBe("info");
    expect(env.cli.dataDir).toBe(path.resolve(".retrace"));
    expect(() => env.web).toThrow(/DATABASE_URL/);
    expect(() => env.worker).toThrow(/RETRACE_SECRET/);
  });

  it("counts trusted proxies from 0 (the default) to 10, and names anything else for web and CLI alike", async () => {
    process.env.DATABASE_URL = "postgres://localhost/retrace";
    process.env.RETRACE_SECRET = SECRET;
    expect((await freshEnv()).web.RETRACE_TRUSTED_PROXIES).toBe(0);
    for (const [value, count] of [
      ["1", 1],
      [" 10 ", 10],
      ["0", 0],
    ] as const) {
      process.env.RETRACE_TRUSTED_PROXIES = value;
      const env = await freshEnv();
      expect(env.web.RETRACE_TRUSTED_PROXIES).toBe(count);
      expect(env.cli.RETRACE_TRUSTED_PROXIES).toBe(count);
    }
    for (const bad of ["", "-1", "11", "1.5", "one", "1e1", "0x1"]) {
      process.env.RETRACE_TRUSTED_PROXIES = bad;
      const env = await freshEnv();
      const message = /RETRACE_TRUSTED_PROXIES must be a whole number of proxies from 0 to 10/;
      expect(() => env.web, bad).toThrow(message);
      expect(() => env.cli, bad).toThrow(message);
    }
  });

  it("parses each schema once and keeps it", async () => {
    process.env.DATABASE_URL = "postgres://localhost/retrace";
    process.env.RETRACE_SECRET = SECRET;
    const env = await freshEnv();
    const web = env.web;
    expect(web).toMatchObject({ DATABASE_URL: "postgres://localhost/retrace", LOG_LEVEL: "info" });
    process.env.DATABASE_URL = "postgres://elsewhere/other";
    expect(env.web).toBe(web);
    expect(env.web.DATABASE_URL).toBe("postgres://localhost/retrace");
  });

  it("reads where sources may be and how long they may take at every read, naming a bad value", async () => {
    const env = await freshEnv();
    expect(env.sources).toEqual({
      RETRACE_ALLOW_LOCAL_SOURCES: false,
      RETRACE_ALLOW_SOCKET_SOURCES: false,
      RETRACE_SOURCE_QUERY_TIMEOUT_SECONDS: 10,
    });
    process.env.RETRACE_ALLOW_LOCAL_SOURCES = "TRUE";
    process.env.RETRACE_ALLOW_SOCKET_SOURCES = "no";
    process.env.RETRACE_SOURCE_QUERY_TIMEOUT_SECONDS = "2.5";
    expect(env.sources).toEqual({
      RETRACE_ALLOW_LOCAL_SOURCES: true,
      RETRACE_ALLOW_SOCKET_SOURCES: false,
      RETRACE_SOURCE_QUERY_TIMEOUT_SECONDS: 2.5,
    });
    process.env.RETRACE_ALLOW_LOCAL_SOURCES = "sometimes";
    expect(() => env.sources).toThrow(/RETRACE_ALLOW_LOCAL_SOURCES must be true or false/);
  });

  it("gives the worker its own settings with defaults, and names every bad value", async () => {
    process.env.DATABASE_URL = "postgres://localhost/retrace";
    process.env.RETRACE_SECRET = SECRET;
    expect((await freshEnv()).worker).toMatchObject({
      WORKER_METRICS_PORT: 9464,
      WORKER_METRICS_HOST: "127.0.0.1",
      RETRACE_HEARTBEAT_SECONDS: 30,
    });
    process.env.RETRACE_SECRET = "short";
    process.env.WORKER_METRICS_PORT = "70000";
    const env = await freshEnv();
    expect(() => env.worker).toThrow(/RETRACE_SECRET: .*32 characters[\s\S]*WORKER_METRICS_PORT/);
  });

  it("reads the store's CA file at every read, and hands it on from the CLI as an absolute path", async () => {
    const env = await freshEnv();
    expect(env.store).toEqual({ RETRACE_STORE_SSL_ROOT_CERT: undefined });
    expect(env.cli.storeRootCert).toBeUndefined();
    process.env.RETRACE_STORE_SSL_ROOT_CERT = "certs/store-ca.pem";
    expect(env.store.RETRACE_STORE_SSL_ROOT_CERT).toBe("certs/store-ca.pem");
    expect((await freshEnv()).cli.storeRootCert).toBe(path.resolve("certs/store-ca.pem"));
  });
});
