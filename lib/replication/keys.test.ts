import { describe, expect, it } from "vitest";
import { relationKeyColumns, type CatalogIndex } from "./keys";

type Identity = "default" | "index" | "full" | "nothing";
const relation = (replicaIdentity: Identity, keyColumns: string[]) => ({ replicaIdentity, keyColumns });
const index = (
  columns: string[],
  fields: Partial<Omit<CatalogIndex, "columns">> = {},
  generated: string[] = [],
): CatalogIndex => ({
  primary: true,
  replicaIdentity: false,
  immediate: true,
  columns: columns.map((name) => ({ name, generated: generated.includes(name) })),
  ...fields,
});

describe("relationKeyColumns", () => {
  it("takes the key of a DEFAULT table from the message's flags, whatever the catalog says now", () => {
    // The key was `id`, renamed to `ident` since, then replaced by (a).
    expect(relationKeyColumns(relation("default", ["id"]), [index(["a"])])).toEqual(["id"]);
    // No primary key when the change was made, one now.
    expect(relationKeyColumns(relation("default", []), [index(["a"])])).toEqual([]);
    // A key then, none now.
    expect(relationKeyColumns(relation("default", ["id"]), [])).toEqual(["id"]);
  });

  it("orders a composite key as the catalog's index when that index still has exactly those columns", () => {
    // Flags come in table column order; the key was declared (c, a).
    expect(relationKeyColumns(relation("default", ["a", "c"]), [index(["c", "a"])])).toEqual(["c", "a"]);
  });

  it("keeps a composite key that no longer exists in table column order", () => {
    expect(relationKeyColumns(relation("default", ["ident", "a"]), [index(["a"])])).toEqual(["ident", "a"]);
    expect(relationKeyColumns(relation("default", ["ident", "a"]), [])).toEqual(["ident", "a"]);
  });

  it("takes the key of a USING INDEX table from its flags, ordered by the identity index", () => {
    const catalog = [index(["id"]), index(["c", "b"], { primary: false, replicaIdentity: true })];
    expect(relationKeyColumns(relation("index", ["b", "c"]), catalog)).toEqual(["c", "b"]);
    expect(relationKeyColumns(relation("index", ["b"]), catalog)).toEqual(["b"]);
  });

  it("uses the catalog's deferrable primary key, which pgoutput never flags", () => {
    expect(relationKeyColumns(relation("default", []), [index(["a"], { immediate: false })])).toEqual(["a"]);
  });

  it("uses the catalog's key when it has a generated column, which pgoutput does not send", () => {
    expect(relationKeyColumns(relation("default", ["a"]), [index(["a", "g"], {}, ["g"])])).toEqual(["a", "g"]);
  });

  it("takes the primary key of FULL and NOTHING tables from the catalog now (the stream has none)", () => {
    expect(relationKeyColumns(relation("full", ["x", "a", "b"]), [index(["b", "a"])])).toEqual(["b", "a"]);
    expect(relationKeyColumns(relation("full", ["x"]), [])).toEqual([]);
    expect(relationKeyColumns(relation("nothing", []), [index(["a"])])).toEqual(["a"]);
    expect(
      relationKeyColumns(relation("full", ["x"]), [index(["u"], { primary: false, replicaIdentity: true })]),
    ).toEqual([]);
  });
});
