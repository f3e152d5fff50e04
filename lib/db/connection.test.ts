import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  explainStoreError,
  StoreConnectionError,
  storeClientConfig,
  storeTls,
  withAbsoluteTlsFiles,
} from "./connection";

const BASE = "postgres://retrace:S3cret-pass@db.example.com:5432/retrace";
let dir = "";
let caFile = "";

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "retrace-store-tls-"));
  caFile = path.join(dir, "ca.pem");
  fs.writeFileSync(caFile, "-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n");
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

afterEach(() => {
  delete process.env.RETRACE_STORE_SSL_ROOT_CERT;
});

describe("storeTls: DATABASE_URL's sslmode as libpq means it", () => {
  it("is plain without sslmode or CA (the embedded store), and verify-full when only a CA is given", () => {
    expect(storeTls(BASE)).toEqual({ mode: "disable", ca: { file: null } });
    process.env.RETRACE_STORE_SSL_ROOT_CERT = caFile;
    expect(storeTls(BASE)).toEqual({ mode: "verify-full", ca: { file: caFile, from: "RETRACE_STORE_SSL_ROOT_CERT" } });
    expect(storeTls(`${BASE}?sslrootcert=system`)).toEqual({ mode: "verify-full", ca: { file: null } });
  });

  it("keeps disable, require, verify-ca and verify-full; require with a CA checks the chain, as verify-ca", () => {
    for (const mode of ["disable", "require", "verify-ca", "verify-full"]) {
      expect(storeTls(`${BASE}?sslmode=${mode}`).mode).toBe(mode);
    }
    expect(storeTls(`${BASE}?sslmode=require&sslrootcert=/etc/ca.pem`)).toEqual({
      mode: "verify-ca",
      ca: { file: "/etc/ca.pem", from: "sslrootcert" },
    });
    expect(storeTls(`${BASE}?ssl=true`).mode).toBe("verify-full");
    expect(storeTls(`${BASE}?ssl=0`).mode).toBe("disable");
  });

  it("takes the URL's sslrootcert over RETRACE_STORE_SSL_ROOT_CERT", () => {
    process.env.RETRACE_STORE_SSL_ROOT_CERT = caFile;
    expect(storeTls(`${BASE}?sslmode=verify-full&sslrootcert=/etc/other.pem`).ca).toEqual({
      file: "/etc/other.pem",
      from: "sslrootcert",
    });
  });

  it("refuses prefer and allow, which may fall back to plain without saying so, and unknown modes", () => {
    expect(() => storeTls(`${BASE}?sslmode=prefer`)).toThrow(StoreConnectionError);
    expect(() => storeTls(`${BASE}?sslmode=allow`)).toThrow(/sslmode=allow is not supported for the store/);
    expect(() => storeTls(`${BASE}?sslmode=no-verify`)).toThrow(
      "DATABASE_URL: sslmode must be one of disable, require, verify-ca, verify-full",
    );
  });
});

describe("storeClientConfig", () => {
  it("hands node-postgres the URL without its TLS parameters, and the TLS options they mean", () => {
    const config = storeClientConfig(
      `${BASE}?sslmode=require&application_name=x&options=-c%20search_path%3Dpublic`,
      "web",
    );
    expect(config.ssl).toEqual({ rejectUnauthorized: false });
    expect(config.application_name).toBe("web");
    const url = new URL(config.connectionString ?? "");
    expect([...url.searchParams.keys()]).toEqual(["application_name", "options"]);
    expect(url.password).toBe("S3cret-pass");
    expect(storeClientConfig(BASE, "web").ssl).toBe(false);
  });

  it("verifies the chain with the CA file; verify-full also the host name, verify-ca not", () => {
    process.env.RETRACE_STORE_SSL_ROOT_CERT = caFile;
    const full = storeClientConfig(`${BASE}?sslmode=verify-full`, "web").ssl;
    expect(full).toEqual({ rejectUnauthorized: true, ca: fs.readFileSync(caFile, "utf8") });
    const chainOnly = storeClientConfig(`${BASE}?sslmode=verify-ca`, "web").ssl;
    expect(chainOnly).toMatchObject({ rejectUnauthorized: true, ca: fs.readFileSync(caFile, "utf8") });
    expect(typeof chainOnly === "object" && chainOnly.checkServerIdentity?.("db.example.com", {} as never)).toBe(
      undefined,
    );
    // No CA file: the CAs Node trusts (a public CA's certificate, as some providers use).
    delete process.env.RETRACE_STORE_SSL_ROOT_CERT;
    expect(storeClientConfig(`${BASE}?sslmode=verify-full`, "web").ssl).toEqual({ rejectUnauthorized: true });
  });

  it("names the CA file it cannot read and where it was given", () => {
    process.env.RETRACE_STORE_SSL_ROOT_CERT = path.join(dir, "missing.pem");
    expect(() => storeClientConfig(`${BASE}?sslmode=verify-full`, "web")).toThrow(
      `Cannot read the store's CA file (RETRACE_STORE_SSL_ROOT_CERT) ${path.join(dir, "missing.pem")} (ENOENT)`,
    );
  });

  it("keeps direct TLS negotiation with the TLS options set here, and only with TLS", () => {
    const config = storeClientConfig(`${BASE}?sslmode=require&sslnegotiation=direct`, "web");
    expect(config).toMatchObject({ sslnegotiation: "direct", ssl: { rejectUnauthorized: false } });
    expect(new URL(config.connectionString ?? "").searchParams.has("sslnegotiation")).toBe(false);
    expect(() => storeClientConfig(`${BASE}?sslnegotiation=direct`, "web")).toThrow(/needs sslmode=require/);
  });

  it("binds the password exchange to the TLS session when channel_binding asks for it", () => {
    expect(storeClientConfig(`${BASE}?sslmode=require&channel_binding=require`, "web").enableChannelBinding).toBe(true);
    expect(storeClientConfig(`${BASE}?sslmode=require`, "web").enableChannelBinding).toBeUndefined();
  });
});

describe("withAbsoluteTlsFiles", () => {
  it("makes the files the URL names absolute, for processes started elsewhere, and leaves the rest as it is", () => {
    const url = `${BASE}?sslmode=verify-full&sslrootcert=certs/ca.pem&sslcert=/etc/client.crt&application_name=x`;
    const params = new URL(withAbsoluteTlsFiles(url)).searchParams;
    expect(params.get("sslrootcert")).toBe(path.resolve("certs/ca.pem"));
    expect(params.get("sslcert")).toBe("/etc/client.crt");
    expect(params.get("application_name")).toBe("x");
    expect(withAbsoluteTlsFiles(`${BASE}?sslrootcert=system`)).toBe(`${BASE}?sslrootcert=system`);
    expect(withAbsoluteTlsFiles(BASE)).toBe(BASE);
  });
});

describe("explainStoreError", () => {
  const url = `${BASE}?sslmode=verify-full`;
  const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

  it("says which CA refused which server, without the password", () => {
    process.env.RETRACE_STORE_SSL_ROOT_CERT = caFile;
    const explained = explainStoreError(
      withCode("self-signed certificate in certificate chain", "SELF_SIGNED_CERT_IN_CHAIN"),
      url,
    );
    expect(explained).toBeInstanceOf(StoreConnectionError);
    expect((explained as Error).message).toContain(
      `The store's TLS certificate at db.example.com:5432 is not signed by the CA certificate in ${caFile}`,
    );
    expect((explained as Error).message).not.toContain("S3cret-pass");
  });

  it("finds the driver's code under drizzle's wrapper", () => {
    const wrapped = new Error("Failed query: create schema drizzle", {
      cause: withCode("permission denied for database retrace", "42501"),
    });
    expect((explainStoreError(wrapped, url) as Error).message).toMatch(
      /^The store role retrace lacks a privilege in retrace \(permission denied for database retrace\)/,
    );
  });

  it("explains refused connections, passwords and missing databases, and leaves other errors as they are", () => {
    expect((explainStoreError(withCode("connect ECONNREFUSED", "ECONNREFUSED"), url) as Error).message).toBe(
      "Could not reach the store at db.example.com:5432 (ECONNREFUSED).",
    );
    expect((explainStoreError(withCode("password authentication failed", "28P01"), url) as Error).message).toBe(
      "The store at db.example.com:5432 refused the password of retrace.",
    );
    const other = withCode("division by zero", "22012");
    expect(explainStoreError(other, url)).toBe(other);
  });
});
