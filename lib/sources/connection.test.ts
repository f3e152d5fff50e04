import { describe, expect, it } from "vitest";
import { clientConfig, queryFailure, scrubPassword, toSourceError } from "./connection";

const conn = {
  host: "db.example.com",
  port: 5432,
  database: "shop",
  username: "app",
  password: "hunter2-secret",
  sslMode: "prefer" as const,
};

function pgError(code: string, message: string) {
  return Object.assign(new Error(message), { code });
}

describe("clientConfig", () => {
  it("maps SSL modes", () => {
    expect(clientConfig({ ...conn, sslMode: "disable" }).ssl).toBe(false);
    expect(clientConfig({ ...conn, sslMode: "require" }).ssl).toEqual({ rejectUnauthorized: false });
    expect(clientConfig({ ...conn, sslMode: "verify-full" }).ssl).toEqual({ rejectUnauthorized: true });
    expect(clientConfig(conn)).toMatchObject({ application_name: "retrace", connectionTimeoutMillis: 5000 });
  });
});

describe("toSourceError", () => {
  it("maps network failures to SourceUnreachable with host and port", () => {
    const refused = toSourceError(pgError("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.1:5432"), conn);
    expect(refused.code).toBe("source_unreachable");
    expect(refused.message).toBe("Could not reach db.example.com:5432: connection refused.");
    const aggregate = new AggregateError([pgError("ECONNREFUSED", "x"), pgError("ECONNREFUSED", "y")], "");
    expect(toSourceError(aggregate, conn).message).toContain("connection refused");
    expect(toSourceError(pgError("ENOTFOUND", "getaddrinfo ENOTFOUND db.example.com"), conn).message).toContain(
      "could not be resolved",
    );
    expect(toSourceError(new Error("Connection terminated due to connection timeout"), conn).message).toContain(
      "timed out",
    );
  });

  it("maps SQLSTATEs to specific errors", () => {
    expect(toSourceError(pgError("28P01", 'password authentication failed for user "app"'), conn)).toMatchObject({
      code: "authentication_failed",
      message: 'Authentication failed for user "app" on db.example.com:5432: the password was rejected.',
    });
    const hba = toSourceError(pgError("28000", 'no pg_hba.conf entry for host "1.2.3.4", user "app"'), conn);
    expect(hba.code).toBe("authentication_failed");
    expect(hba.fix).toContain("pg_hba.conf");
    expect(toSourceError(pgError("3D000", 'database "shop" does not exist'), conn)).toMatchObject({
      code: "database_missing",
      message: 'Database "shop" does not exist on db.example.com:5432.',
    });
    expect(
      toSourceError(new Error("The server does not support SSL connections"), { ...conn, sslMode: "require" }).code,
    ).toBe("ssl_failed");
    expect(toSourceError(pgError("SELF_SIGNED_CERT_IN_CHAIN", "self-signed certificate"), conn).code).toBe(
      "ssl_failed",
    );
  });

  it("shows no text of a peer that is not PostgreSQL, and keeps a server's own error (it has an SQLSTATE)", () => {
    const notPostgres = "db.example.com:5432 is not a PostgreSQL server: it did not answer as one.";
    expect(toSourceError(new Error("Connection terminated unexpectedly"), conn).message).toBe(notPostgres);
    expect(toSourceError(new Error("There was an error establishing an SSL connection"), conn).message).toBe(
      notPostgres,
    );
    expect(toSourceError(new Error("SSH-2.0-OpenSSH_9.6 banner"), conn).message).toBe(notPostgres);
    expect(toSourceError(pgError("XX000", "internal error at the server"), conn).message).toBe(
      "Could not connect to db.example.com:5432: internal error at the server",
    );
  });

  it("says a server that went silent did not answer within the deadline", () => {
    expect(queryFailure(new Error("Query read timeout"), conn)?.message).toBe(
      "db.example.com:5432 did not answer within 10 s.",
    );
    expect(queryFailure(new Error("Connection terminated unexpectedly"), conn)?.message).toBe(
      "The connection to db.example.com:5432 was lost.",
    );
    expect(queryFailure(pgError("42P01", 'relation "x" does not exist'), conn)).toBeNull();
  });

  it("never repeats the password", () => {
    const leaky = toSourceError(new Error(`weird failure mentioning hunter2-secret`), conn);
    expect(leaky.message).not.toContain("hunter2-secret");
    expect(scrubPassword("a hunter2-secret b", "hunter2-secret")).toBe("a [redacted] b");
  });
});
