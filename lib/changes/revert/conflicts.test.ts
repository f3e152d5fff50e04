import { describe, expect, it } from "vitest";
import { groupByRow, liveQuery } from "./conflicts";
import type { TableInfo } from "./literal";
import type { RevertChange } from "./plan";

const table: TableInfo = {
  schema: "public",
  table: "items",
  columns: [
    {
      name: "id",
      type: "bigint",
      json: false,
      array: false,
      elementJson: false,
      delimiter: ",",
      generated: false,
      identityAlways: false,
    },
    {
      name: "doc",
      type: "jsonb",
      json: true,
      array: false,
      elementJson: false,
      delimiter: ",",
      generated: false,
      identityAlways: false,
    },
  ],
  key: ["id"],
};

const change = (id: string, values: Partial<RevertChange>): RevertChange => ({
  id,
  schema: "public",
  table: "items",
  primaryKey: "1",
  operation: "UPDATE",
  before: null,
  after: null,
  changedFields: null,
  unavailableFields: null,
  beforeJsonNullFields: null,
  afterJsonNullFields: null,
  ...values,
});

describe("groupByRow", () => {
  it("groups a row's changes newest first and leaves out what names no row", () => {
    const groups = groupByRow([
      change("9", {}),
      change("8", { primaryKey: "2" }),
      change("7", {}),
      change("6", { operation: "TRUNCATE", primaryKey: null }),
      change("5", { table: "other" }),
    ]);
    expect(groups.map((g) => [g.table, g.primaryKey, g.changes.map((c) => c.id)])).toEqual([
      ["items", "1", ["9", "7"]],
      ["items", "2", ["8"]],
      ["other", "1", ["5"]],
    ]);
  });
});

describe("liveQuery", () => {
  it("compares each column of the newest after image as text, JSON null included, locking when asked", () => {
    const [group] = groupByRow([change("9", { after: '{"id":1,"doc":null}', afterJsonNullFields: ["doc"] })]);
    const query = group ? liveQuery(group, table, true) : null;
    expect(query).toEqual({
      sql:
        `SELECT ("id")::text IS NOT DISTINCT FROM ('1'::bigint)::text AS c0, ` +
        `("doc")::text IS NOT DISTINCT FROM ('null'::jsonb)::text AS c1 ` +
        `FROM "public"."items" WHERE "id" = '1'::bigint FOR UPDATE`,
      expectPresent: true,
      columns: ["id", "doc"],
    });
  });

  it("expects no row after a DELETE, found by the before image's key", () => {
    const [group] = groupByRow([change("9", { operation: "DELETE", before: '{"id":1,"doc":{}}' })]);
    const query = group ? liveQuery(group, table, false) : null;
    expect(query).toEqual({
      sql: `SELECT 1 AS present FROM "public"."items" WHERE "id" = '1'::bigint`,
      expectPresent: false,
      columns: [],
    });
  });
});
