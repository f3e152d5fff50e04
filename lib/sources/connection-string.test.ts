import { describe, expect, it } from "vitest";
import { parseConnectionString } from "./connection-string";

describe("parseConnectionString", () => {
  it("reads a postgres:// URL", () => {
    expect(parseConnectionString("postgres://app:s%40cret@db.example.com:6543/shop?sslmode=require")).toEqual({
      host: "db.example.com",
      port: "6543",
      database: "shop",
      username: "app",
      password: "s@cret",
      sslMode: "require",
    });
  });

  it("reads postgresql://, IPv6 hosts, missing parts and a raw @ in the password", () => {
    expect(parseConnectionString("postgresql://[::1]/app")).toEqual({ host: "::1", database: "app" });
    expect(parseConnectionString("postgres://me:p@ss@localhost")).toEqual({
      host: "localhost",
      username: "me",
      password: "p@ss",
    });
    expect(parseConnectionString("postgres://u@h1:5432,h2:5433/d?sslmode=verify-ca")).toEqual({
      host: "h1",
      port: "5432",
      username: "u",
      database: "d",
      sslMode: "verify-full",
    });
  });

  it("decodes the database name as libpq does, and reads parameters in the query", () => {
    expect(parseConnectionString("postgres://h/my%40db%2Fx%20y")).toEqual({ host: "h", database: "my@db/x y" });
    expect(
      parseConnectionString("postgresql:///?host=db.internal&port=6000&dbname=shop&user=app&password=a%26b"),
    ).toEqual({ host: "db.internal", port: "6000", database: "shop", username: "app", password: "a&b" });
    expect(parseConnectionString("postgres://app:secret@/shop")).toEqual({
      username: "app",
      password: "secret",
      database: "shop",
    });
  });

  it("fills the fields without reading the SSL files a string names (only noting the CA file's name)", () => {
    expect(
      parseConnectionString(
        "postgres://app@db.example.com/shop?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem&sslcert=/x&sslkey=/y",
      ),
    ).toEqual({
      host: "db.example.com",
      username: "app",
      database: "shop",
      sslMode: "verify-full",
      sslRootCertFile: "/etc/ssl/ca.pem",
    });
  });

  it("reads the libpq keyword/value form", () => {
    expect(
      parseConnectionString("host=db port=5433 dbname=shop user=app password='it''s' sslmode=disable"),
    ).toMatchObject({
      host: "db",
      port: "5433",
      database: "shop",
      username: "app",
      sslMode: "disable",
    });
    expect(parseConnectionString("host=db password='a b\\'c'")).toEqual({ host: "db", password: "a b'c" });
  });

  it("returns null for text that is neither", () => {
    expect(parseConnectionString("")).toBeNull();
    expect(parseConnectionString("hello world")).toBeNull();
  });

  it("notes the CA file a string names, in both forms", () => {
    expect(
      parseConnectionString(
        "postgres://u:p@db.abc.eu-west-1.rds.amazonaws.com/shop?sslmode=verify-full&sslrootcert=%2Fcerts%2Fglobal-bundle.pem",
      ),
    ).toMatchObject({ sslMode: "verify-full", sslRootCertFile: "/certs/global-bundle.pem" });
    expect(
      parseConnectionString("host=db port=5432 dbname=shop user=u sslmode=verify-full sslrootcert='/etc/ca.crt'"),
    ).toMatchObject({ host: "db", sslMode: "verify-full", sslRootCertFile: "/etc/ca.crt" });
  });
});
