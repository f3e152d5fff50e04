import { describe, expect, it } from "vitest";
import {
  HOST_KINDS,
  hostFix,
  hostKindFromName,
  hostKindFromServer,
  resolveHostKind,
  type HostFixId,
} from "./host-kind";
import { splitFix } from "./fix-text";

describe("hostKindFromName", () => {
  it.each([
    ["mydb.abc123xyz.eu-west-1.rds.amazonaws.com", "rds"],
    ["cluster-1.cluster-abc.us-east-1.rds.amazonaws.com", "rds"],
    ["ep-cool-darkness-123456.us-east-2.aws.neon.tech", "neon"],
    ["db.abcdefghij.supabase.co", "supabase"],
    ["aws-0-eu-central-1.pooler.supabase.com", "supabase"],
    ["myserver.postgres.database.azure.com", "azure"],
    ["abc.1a2b.us-central1.sql.goog", "cloud-sql"],
    ["/cloudsql/project:region:instance", "cloud-sql"],
  ] as const)("%s is %s", (host, kind) => {
    expect(hostKindFromName(host)).toBe(kind);
  });

  it("knows nothing of IP addresses and private names", () => {
    expect(hostKindFromName("10.0.0.5")).toBeNull();
    expect(hostKindFromName("db.internal")).toBeNull();
    expect(hostKindFromName("notsupabase.co")).toBeNull();
  });
});

describe("hostKindFromServer and resolveHostKind", () => {
  it("reads provider settings and roles", () => {
    expect(hostKindFromServer({ settings: ["rds.logical_replication"], roles: [] })).toBe("rds");
    expect(hostKindFromServer({ settings: [], roles: ["cloudsqlsuperuser"] })).toBe("cloud-sql");
    expect(hostKindFromServer({ settings: ["azure.extensions"], roles: [] })).toBe("azure");
    expect(hostKindFromServer({ settings: ["neon.timeline_id"], roles: [] })).toBe("neon");
    expect(hostKindFromServer({ settings: [], roles: ["supabase_admin"] })).toBe("supabase");
    expect(hostKindFromServer({ settings: [], roles: [] })).toBeNull();
  });

  it("prefers the user's choice, then the server, then the name, else self-managed", () => {
    const rdsMarks = { settings: ["rds.logical_replication"], roles: [] };
    expect(resolveHostKind("azure", "x.neon.tech", rdsMarks)).toBe("azure");
    expect(resolveHostKind(null, "x.neon.tech", rdsMarks)).toBe("rds");
    expect(resolveHostKind(null, "x.neon.tech", { settings: [], roles: [] })).toBe("neon");
    expect(resolveHostKind(undefined, "10.1.2.3")).toBe("self-managed");
  });
});

describe("hostFix: the fix table", () => {
  const ctx = { role: '"retrace"', host: "db.example.com", port: 5432, maxReplicationSlots: 10, maxWalSenders: 10 };
  const ids: HostFixId[] = ["reachable", "tls", "wal_level", "replication", "replication_slots", "wal_senders"];

  it("has a fix for every check on every host", () => {
    for (const kind of HOST_KINDS) {
      for (const id of ids) expect(hostFix(kind, id, ctx), `${kind} ${id}`).not.toBe("");
    }
  });

  it.each([
    ["self-managed", "wal_level", "ALTER SYSTEM SET wal_level = logical;"],
    ["rds", "wal_level", "rds.logical_replication = 1"],
    ["rds", "wal_level", "aws rds modify-db-parameter-group"],
    ["rds", "replication", 'GRANT rds_replication TO "retrace";'],
    ["neon", "wal_level", "open your project's Settings, then Logical Replication, and click Enable"],
    [
      "cloud-sql",
      "wal_level",
      "gcloud sql instances patch <your-instance> --database-flags=cloudsql.logical_decoding=on",
    ],
    ["cloud-sql", "replication", 'ALTER ROLE "retrace" WITH REPLICATION;'],
    ["azure", "wal_level", "az postgres flexible-server parameter set"],
    ["azure", "replication", "azure_pg_admin"],
    ["supabase", "reachable", "logical replication does not work through the pooler"],
    ["self-managed", "replication_slots", "ALTER SYSTEM SET max_replication_slots = 14;"],
    ["self-managed", "wal_senders", "ALTER SYSTEM SET max_wal_senders = 14;"],
    ["rds", "reachable", "security group"],
    ["cloud-sql", "tls", "Download server CA certificate"],
  ] as const)("%s / %s says %s", (kind, id, text) => {
    expect(hostFix(kind, id, ctx)).toContain(text);
  });

  it("writes SQL and commands on lines of their own, so they land in a code box, and prose as prose", () => {
    const rds = splitFix(hostFix("rds", "wal_level", ctx));
    expect(rds.map((s) => s.kind)).toEqual(["prose", "code", "prose", "code"]);
    expect(rds[1]?.text).toBe("rds.logical_replication = 1");
    const neon = splitFix(hostFix("neon", "wal_level", ctx));
    expect(neon.every((s) => s.kind === "prose")).toBe(true);
    const self = splitFix(hostFix("self-managed", "wal_level", ctx));
    expect(self.map((s) => s.kind)).toEqual(["code"]);
  });
});
