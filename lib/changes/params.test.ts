import { describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { Invalid } from "../errors";
import { parseListParams } from "./params";
import { primaryKeyCandidates } from "./primary-key";
import { parseIsoTime } from "./time";

const parse = (query: string) => parseListParams(new URLSearchParams(query));

/** The parameter a 400 names. */
function namedParameter(query: string): string | undefined {
  try {
    parse(query);
  } catch (error) {
    if (error instanceof ZodError) return error.issues[0]?.path.join(".");
    if (error instanceof Invalid) return (error.details as { path: string }[])[0]?.path;
    throw error;
  }
  return undefined;
}

describe("parseIsoTime", () => {
  it.each([
    ["2024-05-06T07:08:09Z", "2024-05-06T07:08:09.000000Z"],
    ["2024-05-06T07:08:09.123456Z", "2024-05-06T07:08:09.123456Z"],
    ["2024-05-06T07:08:09.1+02:00", "2024-05-06T05:08:09.100000Z"],
    ["2024-05-06T07:08:09.000001-0130", "2024-05-06T08:38:09.000001Z"],
    ["2024-05-06 07:08 02:00", "2024-05-06T05:08:00.000000Z"],
    ["2024-05-06", "2024-05-06T00:00:00.000000Z"],
  ])("%s is %s", (input, utc) => {
    expect(parseIsoTime(input)).toBe(utc);
  });

  it.each(["yesterday", "2024-02-30", "2024-05-06T07:08:09", "2024-05-06T25:00Z", "2024-05-06T07:08:09.1234567Z", ""])(
    "refuses %j",
    (input) => {
      expect(parseIsoTime(input)).toBeNull();
    },
  );
});

describe("primaryKeyCandidates", () => {
  it("reads a composite key typed as a list, a tuple or JSON, and keeps the text as typed", () => {
    for (const typed of ["31,1", "(31, 1)", '["31","1"]', "[31,1]"]) {
      expect(primaryKeyCandidates(typed)).toContain('["31","1"]');
    }
    expect(primaryKeyCandidates("a,b")).toContain("a,b");
    expect(primaryKeyCandidates('("a,b", c)')).toContain('["a,b","c"]');
    expect(primaryKeyCandidates("42")).toEqual(["42"]);
  });
});

describe("parseListParams", () => {
  it("takes every filter of the contract", () => {
    const { filters, page } = parse(
      "operation=create,Update&table=Items&primaryKey=1&environment=e&database=d" +
        "&sourceId=00000000-0000-4000-8000-00000000000a&from=2024-05-06T00:00:00Z&to=2024-05-07T00:00:00Z" +
        `&context=${encodeURIComponent('{"user_id":42}')}&field=price&limit=20`,
    );
    expect(filters).toEqual({
      operation: ["CREATE", "UPDATE"],
      table: "Items",
      primaryKey: "1",
      environment: "e",
      database: "d",
      sourceId: "00000000-0000-4000-8000-00000000000a",
      from: "2024-05-06T00:00:00.000000Z",
      to: "2024-05-07T00:00:00.000000Z",
      context: '{"user_id":42}',
      field: "price",
    });
    expect(page).toEqual({ cursor: undefined, limit: 20 });
  });

  it("treats empty parameters and a context of {} as absent", () => {
    expect(parse("table=&context=%7B%20%7D").filters).toEqual({});
  });

  it.each([
    ["operation=INSERT", "operation"],
    ["operation=,", "operation"],
    ["from=yesterday", "from"],
    ["to=2024-05-06T07:08:09", "to"],
    ["from=2024-05-07T00:00:00Z&to=2024-05-06T00:00:00Z", "to"],
    ["context=[1]", "context"],
    ["context=%7Bnot", "context"],
    ["sourceId=abc", "sourceId"],
    ["limit=0", "limit"],
    ["limit=501", "limit"],
    ["operation=CREATE&operation=UPDATE", "operation"],
    ["table=a&table=b", "table"],
  ])("refuses %s, naming %s", (query, parameter) => {
    expect(namedParameter(query)).toBe(parameter);
  });
});
