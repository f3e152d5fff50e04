import { describe, expect, it } from "vitest";
import { PasswordUnreadable } from "./errors";
import { describeFailure, type FailingSource } from "./failure";

const source: FailingSource = {
  host: "db.example.com",
  port: 5432,
  database: "shop",
  username: "capture",
  password: "hunter2-secret",
  sslMode: "prefer",
  slotName: "retrace_abc",
  publicationName: "retrace_abc",
};

/** An error as node-postgres or node's net module raises it: a message and a code. */
function failure(code: string | undefined, message: string): Error {
  return Object.assign(new Error(message), code ? { code } : {});
}

describe("describeFailure", () => {
  it("records what the connect form says about an unreachable source, with its fix", () => {
    const refused = new AggregateError([
      failure("ECONNREFUSED", "connect ECONNREFUSED ::1:5432"),
      failure("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432"),
    ]);
    const described = describeFailure(refused, source);
    expect(described.message).toBe("Could not reach db.example.com:5432: connection refused.");
    expect(described.fix).toContain("Check that PostgreSQL is running on db.example.com:5432");
    expect(describeFailure(failure("ENOTFOUND", "getaddrinfo ENOTFOUND db.example.com"), source).message).toContain(
      "could not be resolved",
    );
  });

  it("records a rejected password as the connect form does, never the password", () => {
    const described = describeFailure(failure("28P01", 'password authentication failed for user "capture"'), source);
    expect(described).toEqual({
      message: 'Authentication failed for user "capture" on db.example.com:5432: the password was rejected.',
      fix: "Check the username and password.",
    });
    expect(describeFailure(failure("3D000", 'database "shop" does not exist'), source).message).toBe(
      'Database "shop" does not exist on db.example.com:5432.',
    );
  });

  it("says what a failure while streaming means, and what to do", () => {
    const shutdown = describeFailure(failure("57P01", "terminating connection due to administrator command"), source);
    expect(shutdown.message).toBe(
      "db.example.com:5432 closed the connection: the server is shutting down, " +
        "or an administrator ended Retrace's session.",
    );
    expect(describeFailure(new Error("Connection terminated unexpectedly"), source)).toMatchObject({
      message: "The connection to db.example.com:5432 was lost.",
    });
    expect(describeFailure(failure("42704", 'replication slot "retrace_abc" does not exist'), source).message).toBe(
      'The replication slot "retrace_abc" no longer exists on db.example.com:5432.',
    );
    expect(
      describeFailure(new Error("Replication slot retrace_abc does not exist in this database"), source).fix,
    ).toContain("Remove this database in Retrace and connect it again");
    expect(describeFailure(failure("42704", 'publication "retrace_abc" does not exist'), source).fix).toContain(
      "Edit tables",
    );
    const inUse = describeFailure(failure("55006", 'replication slot "retrace_abc" is active for PID 4242'), source);
    expect(inUse.fix).toContain("WHERE slot_name = 'retrace_abc';");
    const privilege = describeFailure(failure("42501", "permission denied to start WAL sender"), source);
    expect(privilege.fix).toContain('ALTER ROLE "capture" WITH REPLICATION;');
  });

  it("keeps Retrace's own errors as they are, fix included", () => {
    expect(describeFailure(new PasswordUnreadable(), null)).toEqual({
      message: new PasswordUnreadable().message,
      fix: null,
    });
  });

  it("keeps any other message short and safe: no password, no connection string", () => {
    const leaky = new Error(
      `COPY failed near hunter2-secret via postgres://capture:hunter2-secret@db.example.com/shop ${"x".repeat(900)}`,
    );
    const described = describeFailure(leaky, source);
    expect(described.message).not.toContain("hunter2-secret");
    expect(described.message).not.toContain("postgres://");
    expect(described.message.length).toBeLessThanOrEqual(500);
    expect(described.fix).toBeNull();
    // A store error keeps its words: they are the clue.
    expect(describeFailure(failure("42P01", 'relation "changes" does not exist'), source)).toEqual({
      message: 'relation "changes" does not exist',
      fix: null,
    });
  });
});
