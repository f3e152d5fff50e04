import { describe, expect, it } from "vitest";
import {
  ownerSql,
  ownerSteps,
  tableSetup,
  type AccessFacts,
  type RelationAccess,
  type TableAccess,
} from "./table-access";

const relation = (table: string, owner: string, extra: Partial<RelationAccess> = {}): RelationAccess => ({
  schema: "public",
  table,
  owner,
  ownerIsSuperuser: owner === "postgres",
  mayAlter: owner === "retrace",
  identityFull: false,
  virtualColumns: [],
  ...extra,
});

const table = (relations: RelationAccess[], published = false): TableAccess => {
  const [root] = relations;
  if (!root) throw new Error("no relations");
  return { table: { schema: root.schema, table: root.table }, relations, published };
};

const facts = (tables: TableAccess[], extra: Partial<AccessFacts> = {}): AccessFacts => ({
  role: "retrace",
  tables,
  owners: [],
  publication: { name: "retrace_1", owner: "retrace", ownerIsSuperuser: false, mayAlter: true },
  ...extra,
});

describe("tableSetup", () => {
  it("is ready once published with every relation FULL, automatic while Retrace may finish it", () => {
    const ready = facts([]);
    expect(tableSetup(ready, table([relation("a", "app", { identityFull: true })], true))).toBe("ready");
    expect(tableSetup(ready, table([relation("a", "retrace")]))).toBe("automatic");
    expect(tableSetup(ready, table([relation("a", "app", { identityFull: true })]))).toBe("owner");
    expect(tableSetup(ready, table([relation("a", "app")], true))).toBe("owner");
    // Published by its owner, with a partition Retrace owns left at DEFAULT: Retrace sets it.
    const mixed = table([relation("m", "app", { identityFull: true }), relation("m_1", "retrace")], true);
    expect(tableSetup(ready, mixed)).toBe("automatic");
    expect(ownerSteps(facts([mixed]))).toEqual([]);
  });
});

describe("ownerSql", () => {
  it("has a superuser owner run both statements itself, never granting it", () => {
    const sql = ownerSql(facts([table([relation("settings", "postgres")])]), "retrace_1");
    expect(sql).toBe(
      [
        '-- Owned by "postgres", a superuser: public.settings.',
        '-- As "postgres" (or another superuser):',
        'ALTER TABLE "public"."settings" REPLICA IDENTITY FULL;',
        'ALTER PUBLICATION "retrace_1" ADD TABLE "public"."settings";',
        "",
        "-- Then save the tables again.",
      ].join("\n"),
    );
  });

  it("asks only for what is missing: a published table's partition of another owner needs its identity", () => {
    const events = table(
      [relation("events", "retrace", { identityFull: true }), relation("events_2026", "archive")],
      true,
    );
    const sql = ownerSql(facts([events]), "retrace_1");
    expect(sql).toContain('-- Owned by "archive": public.events_2026.\n-- As "archive":\n');
    expect(sql).toContain('ALTER TABLE "public"."events_2026" REPLICA IDENTITY FULL;');
    expect(sql).not.toContain("PUBLICATION");
    expect(sql).not.toContain("GRANT");
  });

  it("has a non-superuser owner join the publication's owner for the statements, then leave", () => {
    const orders = table([relation("Order Items", 'sh"op')]);
    const sql = ownerSql(
      facts([orders], { owners: [{ name: 'sh"op', superuser: false, ownsOnlyChosen: false }] }),
      "p",
    );
    expect(sql).toContain('GRANT "retrace" TO "sh""op";');
    expect(sql).toContain('-- 2. As "sh""op" (or a superuser, without steps 1 and 3):');
    expect(sql).toContain('ALTER PUBLICATION "p" ADD TABLE "public"."Order Items";');
    expect(sql).toContain('REVOKE "retrace" FROM "sh""op";');
    expect(sql).not.toContain("-- Or,");
  });

  it("offers letting Retrace in only to an owner of nothing but the chosen tables", () => {
    const owners = [{ name: "app", superuser: false, ownsOnlyChosen: true }];
    const sql = ownerSql(facts([table([relation("accounts", "app")])], { owners }), "p");
    expect(sql).toContain('-- Or, as "app" owns nothing but tables chosen here: GRANT "app" TO "retrace";');
  });

  it("never has an owner join a publication owned by a superuser", () => {
    const publication = { name: "p", owner: "postgres", ownerIsSuperuser: true, mayAlter: false };
    const sql = ownerSql(facts([table([relation("accounts", "app")])], { publication }), "p");
    expect(sql).toContain("-- As a superuser:");
    expect(sql).not.toContain("GRANT");
  });
});
