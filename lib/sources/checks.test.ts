import { describe, expect, it } from "vitest";
import { httpStatus } from "../http/errors";
import { errorForCheck } from "./check-result";
import { evaluateChecks, hostKindOf } from "./evaluate-checks";
import type { SourceFacts } from "./source-facts";
import { roleSql } from "./role-sql";

const healthy: SourceFacts = {
  versionNum: 160004,
  version: "16.4",
  currentUser: "app",
  database: "shop",
  walLevel: "logical",
  maxReplicationSlots: 10,
  usedReplicationSlots: 2,
  maxWalSenders: 10,
  usedWalSenders: 1,
  isSuperuser: false,
  hasReplication: true,
  isRds: false,
  isRdsReplicationMember: false,
  canCreateInDatabase: true,
  schemas: ["public"],
  schemaOwners: [{ schema: "public", owner: "app" }],
  serverMarks: { settings: [], roles: [] },
  ssl: true,
  unreadableTables: [],
  foreignNames: { slots: [], publications: [] },
  foreignOwners: [],
  missingTables: [],
  access: { role: "app", tables: [], owners: [], publication: null },
};

const failing = (facts: Partial<SourceFacts>) => evaluateChecks({ ...healthy, ...facts }).filter((c) => !c.ok);

describe("evaluateChecks", () => {
  it("passes a well-configured source, in a stable order", () => {
    const checks = evaluateChecks(healthy);
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(checks.map((c) => c.id)).toEqual([
      "version",
      "wal_level",
      "replication",
      "replication_slots",
      "wal_senders",
      "publication",
      "names",
    ]);
    expect(checks.some((c) => "fix" in c)).toBe(false);
  });

  it("stops at a server too old for pgoutput", () => {
    const checks = evaluateChecks({ ...healthy, versionNum: 90624, version: "9.6.24" });
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ id: "version", ok: false });
    expect(checks[0] && errorForCheck(checks[0]).code).toBe("unsupported_version");
  });

  it("needs PostgreSQL 14 for pgoutput protocol 2 with logical messages", () => {
    expect(evaluateChecks({ ...healthy, versionNum: 130015, version: "13.15" })[0]).toMatchObject({
      id: "version",
      ok: false,
    });
    expect(evaluateChecks({ ...healthy, versionNum: 140000, version: "14.0" })[0]).toMatchObject({
      id: "version",
      ok: true,
    });
  });

  it("gives the exact fix for wal_level, on plain PostgreSQL and on RDS", () => {
    const [wal] = failing({ walLevel: "replica" });
    expect(wal).toMatchObject({
      id: "wal_level",
      message: 'wal_level is "replica"; logical replication needs "logical".',
    });
    expect(wal?.fix).toContain("ALTER SYSTEM SET wal_level = logical;");
    expect(wal && errorForCheck(wal).code).toBe("wal_level_not_logical");
    expect(failing({ walLevel: "replica", isRds: true })[0]?.fix).toContain("rds.logical_replication = 1");
  });

  it("asks for REPLICATION, or rds_replication on RDS", () => {
    expect(failing({ hasReplication: false })[0]?.fix).toBe('Run as a superuser:\nALTER ROLE "app" WITH REPLICATION;');
    expect(failing({ hasReplication: false, isRds: true })[0]?.fix).toBe(
      'Run as the master user:\nGRANT rds_replication TO "app";',
    );
    expect(failing({ hasReplication: false, isRds: true, isRdsReplicationMember: true })).toEqual([]);
    expect(failing({ hasReplication: false, isSuperuser: true })).toEqual([]);
  });

  it("counts free slots and WAL senders", () => {
    const [slots] = failing({ usedReplicationSlots: 10 });
    expect(slots?.id).toBe("replication_slots");
    expect(slots?.fix).toContain("ALTER SYSTEM SET max_replication_slots = 14;");
    expect(slots && errorForCheck(slots).code).toBe("no_free_slots");
    expect(failing({ usedWalSenders: 10 })[0]?.fix).toContain("max_wal_senders = 14");
  });

  it("checks publication rights and table ownership, never suggesting to join the owner's role", () => {
    expect(failing({ canCreateInDatabase: false })[0]?.fix).toBe('GRANT CREATE ON DATABASE "shop" TO "app";');
    const orders = {
      schema: "public",
      table: "orders",
      owner: "shop_owner",
      ownerIsSuperuser: false,
      mayAlter: false,
      identityFull: false,
      virtualColumns: [],
    };
    const access = {
      role: "app",
      tables: [{ table: { schema: "public", table: "orders" }, relations: [orders], published: false }],
      owners: [{ name: "shop_owner", superuser: false, ownsOnlyChosen: false }],
      publication: null,
    };
    // Before connecting there is no publication to name: connect first, the Tables page gives the SQL.
    const [owner] = failing({ access });
    expect(owner?.message).toContain("public.orders (owner shop_owner)");
    expect(owner?.message).toContain("Connect without them first");
    expect(owner?.fix).toBeUndefined();
    expect(owner && errorForCheck(owner).code).toBe("insufficient_privilege");
    // Connected: the owner's SQL, naming the publication.
    const publication = { name: "retrace_1", owner: "app", ownerIsSuperuser: false, mayAlter: true };
    const [connected] = failing({ access: { ...access, publication } });
    expect(connected?.fix).toContain('ALTER PUBLICATION "retrace_1" ADD TABLE "public"."orders";');
    expect(connected?.fix).not.toContain('GRANT "shop_owner"');
  });

  it("refuses a table with virtual generated columns (PostgreSQL 18 cannot publish it under FULL)", () => {
    const items = {
      schema: "public",
      table: "items",
      owner: "app",
      ownerIsSuperuser: false,
      mayAlter: true,
      identityFull: false,
      virtualColumns: ["total"],
    };
    const access = {
      role: "app",
      tables: [{ table: { schema: "public", table: "items" }, relations: [items], published: false }],
      owners: [],
      publication: null,
    };
    const [refused] = failing({ access });
    expect(refused?.message).toContain("cannot track public.items (total)");
    expect(refused?.fix).toContain("STORED");
  });

  it("reports requested tables that do not exist", () => {
    const checks = evaluateChecks({ ...healthy, missingTables: ["public.ghost"] }, [
      { schema: "public", table: "ghost" },
    ]);
    const tables = checks.find((c) => c.id === "tables");
    expect(tables).toMatchObject({ ok: false, message: "Not found in shop: public.ghost." });
    expect(tables && httpStatus(errorForCheck(tables).code)).toBe(400);
  });
});

describe("checks on each kind of host", () => {
  const walFix = (kind: Parameters<typeof evaluateChecks>[2]) =>
    evaluateChecks({ ...healthy, walLevel: "replica" }, [], kind).find((c) => c.id === "wal_level")?.fix ?? "";

  it("gives each host's own wal_level fix", () => {
    expect(walFix("self-managed")).toContain("ALTER SYSTEM SET wal_level = logical;");
    expect(walFix("rds")).toContain("rds.logical_replication = 1");
    expect(walFix("neon")).toContain("Logical Replication");
    expect(walFix("cloud-sql")).toContain("cloudsql.logical_decoding=on");
    expect(walFix("azure")).toContain("--name wal_level --value logical");
    expect(walFix("supabase")).toContain("db.<project-ref>.supabase.co");
  });

  it("takes the host from the server's own marks over the user's silence", () => {
    expect(
      hostKindOf({ ...healthy, serverMarks: { settings: ["cloudsql.logical_decoding"], roles: [] } }, "10.0.0.3"),
    ).toBe("cloud-sql");
    expect(hostKindOf({ ...healthy, isRds: true }, "10.0.0.3")).toBe("rds");
    expect(hostKindOf(healthy, "ep-cool-1.us-east-2.aws.neon.tech")).toBe("neon");
    expect(hostKindOf(healthy, "ep-cool-1.us-east-2.aws.neon.tech", "other")).toBe("other");
  });

  it("fails SELECT on a chosen table with the GRANT its owner runs", () => {
    const checks = evaluateChecks({ ...healthy, unreadableTables: ["public.orders"] }, [], "self-managed", [
      { schema: "public", table: "orders" },
    ]);
    const select = checks.find((c) => c.id === "select");
    expect(select).toMatchObject({ ok: false });
    expect(select?.fix).toContain('GRANT SELECT ON "public"."orders" TO "app";');
    expect(select?.fix).toMatch(/owner/);
    expect(select && errorForCheck(select).code).toBe("insufficient_privilege");
  });
});

describe("names", () => {
  it("passes, naming what another Retrace left, with the SQL to drop an inactive slot", () => {
    const names = evaluateChecks({
      ...healthy,
      foreignNames: {
        slots: [
          { name: "retrace_" + "a".repeat(32), active: false },
          { name: "retrace_" + "b".repeat(32), active: true },
        ],
        publications: ["retrace_" + "a".repeat(32)],
      },
    }).find((c) => c.id === "names");
    expect(names?.ok).toBe(true);
    expect(names?.message).toContain("(slot, inactive)");
    expect(names?.fix).toContain(`SELECT pg_drop_replication_slot('retrace_${"a".repeat(32)}');`);
    expect(names?.fix).not.toContain("b".repeat(32));
    expect(names?.fix).toContain(`DROP PUBLICATION "retrace_${"a".repeat(32)}";`);
  });
});

describe("roleSql", () => {
  it("creates a dedicated role with a placeholder password", () => {
    const sql = roleSql("shop", { schemas: ["public", "Sales"] });
    expect(sql).toContain("CREATE ROLE retrace WITH LOGIN REPLICATION PASSWORD 'choose-a-strong-password';");
    expect(sql).toContain('GRANT CONNECT, CREATE ON DATABASE "shop" TO retrace;');
    expect(sql).toContain('GRANT SELECT ON ALL TABLES IN SCHEMA "Sales" TO retrace;');
    expect(roleSql("shop", { hostKind: "rds" })).toContain("GRANT rds_replication TO retrace;");
    expect(roleSql("shop", { hostKind: "rds" })).not.toContain("LOGIN REPLICATION");
  });

  it("covers tables created later by every owner of a schema's tables, not only the role running it", () => {
    const sql = roleSql("shop", {
      schemas: ["public", "Sales"],
      owners: [
        { schema: "public", owner: "app" },
        { schema: "public", owner: "Billing Team" },
        { schema: "Sales", owner: "app" },
      ],
    });
    expect(sql).toContain(
      'ALTER DEFAULT PRIVILEGES FOR ROLE "app" IN SCHEMA "public" GRANT SELECT ON TABLES TO retrace;',
    );
    expect(sql).toContain(
      'ALTER DEFAULT PRIVILEGES FOR ROLE "Billing Team" IN SCHEMA "public" GRANT SELECT ON TABLES TO retrace;',
    );
    expect(sql).toContain(
      'ALTER DEFAULT PRIVILEGES FOR ROLE "app" IN SCHEMA "Sales" GRANT SELECT ON TABLES TO retrace;',
    );
    expect(sql).not.toContain('ALTER DEFAULT PRIVILEGES IN SCHEMA "public"');
    expect(sql).toMatch(/any other owner must run them/);
  });

  it("grants SELECT on the chosen tables only, and says who runs it on a managed host", () => {
    const sql = roleSql("shop", { tables: [{ schema: "public", table: "orders" }], hostKind: "cloud-sql" });
    expect(sql).toContain('GRANT SELECT ON "public"."orders" TO retrace;');
    expect(sql).not.toContain("ALL TABLES");
    expect(sql).toContain("-- Run as the postgres user (a member of cloudsqlsuperuser)");
    expect(sql).toMatch(/Your admin user is not a superuser/);
  });
});
