import { describe, expect, it } from "vitest";
import { parseJson } from "../api/json";
import { jsonDifferences } from "./json-diff";

const differences = (before: string, after: string) => jsonDifferences(parseJson(before), parseJson(after));

describe("jsonDifferences", () => {
  it("names the nested key that changed, not the whole document", () => {
    expect(
      differences(
        '{"a": 1, "address": {"city": "Paris", "zip": "75001"}}',
        '{"a": 1, "address": {"city": "Lyon", "zip": "75001"}}',
      ),
    ).toEqual([{ path: ["address", "city"], kind: "changed" }]);
  });

  it("tells added keys from removed ones", () => {
    expect(differences('{"keep": true, "gone": 1}', '{"keep": true, "new": 2}')).toEqual([
      { path: ["gone"], kind: "removed" },
      { path: ["new"], kind: "added" },
    ]);
  });

  it("compares numbers by their exact text, past what a double holds", () => {
    expect(differences('{"n": 9223372036854775806}', '{"n": 9223372036854775807}')).toEqual([
      { path: ["n"], kind: "changed" },
    ]);
    expect(differences('{"n": 9223372036854775807, "m": 24.50}', '{"n": 9223372036854775807, "m": 24.50}')).toEqual([]);
    expect(differences('{"price": 1.0}', '{"price": 1}')).toEqual([{ path: ["price"], kind: "changed" }]);
  });

  it("reads keys that an object prototype also has as the document's own", () => {
    expect(differences('{"constructor": 1}', '{"toString": 1}')).toEqual([
      { path: ["constructor"], kind: "removed" },
      { path: ["toString"], kind: "added" },
    ]);
  });

  it("compares arrays item by item", () => {
    expect(differences('{"tags": ["a", "b"]}', '{"tags": ["a", "c", "d"]}')).toEqual([
      { path: ["tags", 1], kind: "changed" },
      { path: ["tags", 2], kind: "added" },
    ]);
  });

  it("sees a value that turns from object to array, or to a string, as changed whole", () => {
    expect(differences('{"v": {"a": 1}}', '{"v": [1]}')).toEqual([{ path: ["v"], kind: "changed" }]);
    expect(differences('{"a": 1}', "[1]")).toEqual([{ path: [], kind: "changed" }]);
    expect(differences('"x"', '"x"')).toEqual([]);
    expect(differences("null", '{"a": 1}')).toEqual([{ path: [], kind: "changed" }]);
  });

  it("finds nothing between equal documents", () => {
    expect(differences('{"a": {"b": [1, {"c": null}]}}', '{"a": {"b": [1, {"c": null}]}}')).toEqual([]);
  });
});
