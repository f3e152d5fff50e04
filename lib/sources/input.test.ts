import { describe, expect, it } from "vitest";
import { connectInputSchema, parseTableName, updateTablesSchema } from "./input";

const valid = {
  host: "db.example.com",
  port: "5432",
  database: "shop",
  username: "retrace",
  password: "",
  environment: "production",
};

function fieldErrors(input: unknown): Record<string, string> {
  const result = connectInputSchema.safeParse(input);
  if (result.success) return {};
  return Object.fromEntries(result.error.issues.map((i) => [i.path.join("."), i.message]));
}

describe("connectInputSchema", () => {
  it("coerces the port, defaults sslMode, tables and name", () => {
    expect(connectInputSchema.parse(valid)).toEqual({
      host: "db.example.com",
      port: 5432,
      database: "shop",
      username: "retrace",
      password: "",
      environment: "production",
      sslMode: "prefer",
      sslRootCert: null,
      hostKind: null,
      tables: [],
      trackNewTables: false,
      name: "shop",
    });
  });

  it("keeps a given name and de-duplicates tables", () => {
    const parsed = connectInputSchema.parse({ ...valid, name: " Shop DB ", tables: ["public.a", "public.a", "s.b"] });
    expect(parsed.name).toBe("Shop DB");
    expect(parsed.tables).toEqual(["public.a", "s.b"]);
  });

  it("accepts custom lowercase environments", () => {
    expect(connectInputSchema.parse({ ...valid, environment: "qa-eu_1" }).environment).toBe("qa-eu_1");
  });

  it("explains each invalid field", () => {
    expect(fieldErrors({})).toMatchObject({
      host: "Host is required",
      port: "Port must be a number between 1 and 65535",
      database: "Database name is required",
      username: "Username is required",
      environment: "Environment is required",
    });
    expect(fieldErrors({ ...valid, host: "  ", port: 70000, environment: "Production", sslMode: "on" })).toEqual({
      host: "Host is required",
      port: "Port must be between 1 and 65535",
      environment: expect.stringContaining("lowercase slug"),
      sslMode: "SSL mode must be one of disable, prefer, require, verify-full",
    });
    expect(fieldErrors({ ...valid, port: "" })).toEqual({ port: "Port must be between 1 and 65535" });
    expect(fieldErrors({ ...valid, password: undefined })).toHaveProperty("password");
  });

  it("rejects table names without a schema", () => {
    const result = updateTablesSchema.safeParse({ tables: ["items"] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('"items" is not a table name of the form "schema.table"');
  });
});

describe("parseTableName", () => {
  it("splits at the first dot", () => {
    expect(parseTableName("public.items")).toEqual({ schema: "public", table: "items" });
    expect(parseTableName("audit.log.2024")).toEqual({ schema: "audit", table: "log.2024" });
    expect(parseTableName("items")).toBeNull();
    expect(parseTableName(".items")).toBeNull();
    expect(parseTableName("public.")).toBeNull();
  });
});

describe("the CA certificate", () => {
  const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
  it("keeps PEM text, trimmed, and treats empty as none", () => {
    expect(connectInputSchema.parse({ ...valid, sslMode: "verify-full", sslRootCert: `  ${pem}\n` }).sslRootCert).toBe(
      pem,
    );
    expect(connectInputSchema.parse({ ...valid, sslRootCert: "  " }).sslRootCert).toBeNull();
  });
  it("refuses what is not a certificate, and a private key", () => {
    expect(fieldErrors({ ...valid, sslRootCert: "hello" }).sslRootCert).toMatch(/must be PEM text/);
    expect(
      fieldErrors({ ...valid, sslRootCert: `${pem}\n-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----` })
        .sslRootCert,
    ).toMatch(/private key/);
  });
  it("names an unknown host kind", () => {
    expect(fieldErrors({ ...valid, hostKind: "oracle" }).hostKind).toMatch(/hostKind must be one of/);
  });
});
