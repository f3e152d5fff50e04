import { describe, expect, it } from "vitest";
import { parseJson, type JsonObject } from "../api/json";
import type { ChangeJson } from "./api-types";
import { columnOrder, diffRows, diffRuns } from "./diff";

const image = (text: string) => parseJson(text) as JsonObject;

function change(values: Partial<ChangeJson>): ChangeJson {
  return {
    id: "1",
    sourceId: "00000000-0000-0000-0000-000000000001",
    environment: "production",
    database: "shop",
    sourceName: "Shop",
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
    partition: null,
    context: {},
    transactionId: "1",
    commitLsn: "0/1",
    seq: 0,
    committedAt: "2024-05-06T07:08:09.123456Z",
    createdAt: "2024-05-06T07:08:09.123456Z",
    ...values,
  };
}

describe("columnOrder", () => {
  it("keeps the table's order when an image lacks a column", () => {
    // after lacks "body" (an unchanged TOASTed value): it stays where before has it.
    expect(columnOrder(image('{"id": 1, "body": "x", "title": "a"}'), image('{"id": 1, "title": "b"}'))).toEqual([
      "id",
      "body",
      "title",
    ]);
    // before lacks "title" (say, it was added to the table since): after's place for it.
    expect(columnOrder(image('{"id": 1, "z": 1}'), image('{"id": 1, "title": "b", "z": 1}'))).toEqual([
      "id",
      "title",
      "z",
    ]);
    expect(columnOrder(null, image('{"b": 1, "a": 2}'))).toEqual(["b", "a"]);
    expect(columnOrder(image('{"b": 1}'), image('{"a": 1, "b": 1}'))).toEqual(["a", "b"]);
  });

  it("puts columns no image carries last", () => {
    expect(columnOrder(image('{"id": 1}'), image('{"id": 1}'), ["total", "id"])).toEqual(["id", "total"]);
  });
});

describe("diffRows", () => {
  it("flags the columns an UPDATE changed, by its record or its images", () => {
    const rows = diffRows(
      change({
        before: image('{"id": 1, "name": "Lamp", "price": 19.99, "meta": {"a": 1}}'),
        after: image('{"id": 1, "name": "Desk lamp", "price": 19.99, "meta": {"a": 1}}'),
        changedFields: ["price"],
      }),
    );
    expect(rows.map((row) => [row.column, row.changed])).toEqual([
      ["id", false],
      ["name", true],
      ["price", true],
      ["meta", false],
    ]);
  });

  it("sees SQL NULL turn into JSON null as a change", () => {
    const rows = diffRows(
      change({ before: image('{"doc": null}'), after: image('{"doc": null}'), afterJsonNullFields: ["doc"] }),
    );
    expect(rows).toEqual([expect.objectContaining({ column: "doc", changed: true, afterJsonNull: true })]);
  });

  it("does not take a value the WAL did not carry for a change", () => {
    const rows = diffRows(
      change({
        before: image('{"id": 1, "body": "long"}'),
        after: image('{"id": 2}'),
        unavailableFields: ["body"],
      }),
    );
    expect(rows.map((row) => [row.column, row.changed, row.unavailable, row.after])).toEqual([
      ["id", true, false, 2],
      ["body", false, true, undefined],
    ]);
  });

  it("flags nothing on a CREATE or a DELETE", () => {
    expect(diffRows(change({ operation: "CREATE", after: image('{"id": 1}') })).some((row) => row.changed)).toBe(false);
  });
});

describe("diffRuns", () => {
  it("folds runs of unchanged columns of an UPDATE, and shows a lone one", () => {
    const rows = diffRows(
      change({
        before: image('{"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}'),
        after: image('{"a": 1, "b": 2, "c": 1, "d": 1, "e": 2}'),
      }),
    );
    expect(diffRuns("UPDATE", rows).map((run) => [run.kind, run.rows.map((row) => row.column)])).toEqual([
      ["rows", ["a", "b"]],
      ["unchanged", ["c", "d"]],
      ["rows", ["e"]],
    ]);
  });

  it("folds nothing of another operation", () => {
    const rows = diffRows(change({ operation: "DELETE", before: image('{"a": 1, "b": 1}') }));
    expect(diffRuns("DELETE", rows)).toEqual([{ kind: "rows", rows }]);
  });
});
