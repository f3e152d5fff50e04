import { describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { decodeKeyCursor, encodeKeyCursor } from "./as-of";
import { parseRecordAsOfParams, parseTableAsOfParams } from "./as-of-params";

const params = (query: string) => new URLSearchParams(query);

function failingPath(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof ZodError) return error.issues[0]?.path.join(".");
    if (error instanceof Error && "details" in error) {
      return (error.details as { path: string }[])[0]?.path;
    }
  }
  return undefined;
}

describe("time travel parameters", () => {
  it("reads a row's and a table's parameters, the moment in UTC to the microsecond", () => {
    expect(
      parseRecordAsOfParams(params("database=shop&table=items&primaryKey=(1,2)&at=2026-01-02T03:04:05.123456+01:00")),
    ).toEqual({
      record: { database: "shop", table: "items", primaryKey: "(1,2)" },
      at: "2026-01-02T02:04:05.123456Z",
    });
    expect(
      parseTableAsOfParams(params("sourceId=00000000-0000-4000-8000-000000000001&table=items&at=2026-01-02")),
    ).toEqual({
      table: { sourceId: "00000000-0000-4000-8000-000000000001", table: "items" },
      at: "2026-01-02T00:00:00.000000Z",
      page: { cursor: undefined, limit: 100 },
    });
  });

  it("names the parameter that is wrong", () => {
    expect(failingPath(() => parseTableAsOfParams(params("database=shop&table=items")))).toBe("at");
    expect(failingPath(() => parseTableAsOfParams(params("database=shop&table=items&at=soon")))).toBe("at");
    expect(failingPath(() => parseTableAsOfParams(params("database=shop&at=2026-01-01Z")))).toBe("table");
    expect(failingPath(() => parseTableAsOfParams(params("table=t&at=2026-01-01&limit=501")))).toBe("limit");
    expect(failingPath(() => parseTableAsOfParams(params("table=t&at=2026-01-01&at=2026-01-02")))).toBe("at");
    expect(failingPath(() => parseRecordAsOfParams(params("table=t&at=2026-01-01")))).toBe("primaryKey");
  });

  it("hands out key cursors that come back as the key, and refuses others", () => {
    for (const key of ["42", '["a, b","c\\"d"]', "ünïcode"]) expect(decodeKeyCursor(encodeKeyCursor(key))).toBe(key);
    expect(failingPath(() => decodeKeyCursor("not a cursor"))).toBe("cursor");
    expect(failingPath(() => decodeKeyCursor(Buffer.from("c:12").toString("base64url")))).toBe("cursor");
  });
});
