import { describe, expect, it } from "vitest";
import { splitFix } from "./fix-text";

describe("splitFix", () => {
  it("keeps a sentence as prose", () => {
    expect(splitFix("Check the username and password.")).toEqual([
      { kind: "prose", text: "Check the username and password." },
    ]);
  });

  it("puts SQL and its comments in one code run", () => {
    expect(splitFix("ALTER SYSTEM SET wal_level = logical;\n-- then restart PostgreSQL")).toEqual([
      { kind: "code", text: "ALTER SYSTEM SET wal_level = logical;\n-- then restart PostgreSQL" },
    ]);
  });

  it("separates prose that introduces code from the code", () => {
    expect(splitFix('Run as a superuser:\nALTER ROLE "r" WITH REPLICATION;')).toEqual([
      { kind: "prose", text: "Run as a superuser:" },
      { kind: "code", text: 'ALTER ROLE "r" WITH REPLICATION;' },
    ]);
  });

  it("treats commands, pg_hba lines and settings as code, prose starting with a capital verb as prose", () => {
    const segments = splitFix(
      "Set the flag, then:\ngcloud sql instances patch x --database-flags=cloudsql.logical_decoding=on\n" +
        "host  app  me  0.0.0.0/0  scram-sha-256\nrds.logical_replication = 1\nThen reboot.",
    );
    expect(segments.map((s) => s.kind)).toEqual(["prose", "code", "prose"]);
    expect(segments[1]?.text.split("\n")).toHaveLength(3);
  });

  it("keeps blank lines between blocks of statements inside the code", () => {
    expect(splitFix("-- As a:\nGRANT x TO y;\n\n-- Then save the tables again.")).toEqual([
      { kind: "code", text: "-- As a:\nGRANT x TO y;\n\n-- Then save the tables again." },
    ]);
  });

  it("splits prose paragraphs at a blank line", () => {
    expect(splitFix("One.\n\nTwo.")).toEqual([
      { kind: "prose", text: "One." },
      { kind: "prose", text: "Two." },
    ]);
  });
});
