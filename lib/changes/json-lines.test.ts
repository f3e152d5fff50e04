import { describe, expect, it } from "vitest";
import { parseJson } from "../api/json";
import { jsonDifferences } from "./json-diff";
import { foldLines, jsonLines, marksFor, type JsonLine } from "./json-lines";

const printed = (lines: JsonLine[]) =>
  lines.map(
    (line) =>
      `${"  ".repeat(line.depth)}${line.key === null ? "" : `${line.key}: `}${line.text}${line.comma ? "," : ""}`,
  );

describe("jsonLines", () => {
  it("prints a document two spaces an indent, numbers as received", () => {
    const lines = jsonLines(parseJson('{"a": 12345678901234567890, "b": [true, "x"], "c": {}, "d": []}'));
    expect(printed(lines)).toEqual([
      "{",
      "  a: 12345678901234567890,",
      "  b: [",
      "    true,",
      '    "x"',
      "  ],",
      "  c: {},",
      "  d: []",
      "}",
    ]);
  });

  it("marks the lines of a changed key, and every line of a changed object", () => {
    const before = parseJson('{"a": 1, "b": {"c": 1}, "d": 1}');
    const after = parseJson('{"a": 2, "b": [1], "d": 1}');
    const differences = jsonDifferences(before, after);
    const marked = (side: "before" | "after", value: typeof before) =>
      jsonLines(value, marksFor(side, differences)).map((line) => line.mark);
    expect(marked("before", before)).toEqual([null, "changed", "changed", "changed", "changed", null, null]);
    expect(marked("after", after)).toEqual([null, "changed", "changed", "changed", "changed", null, null]);
  });

  it("shows added keys on the after side only, removed ones on the before side only", () => {
    const differences = jsonDifferences(parseJson('{"old": 1}'), parseJson('{"new": 1}'));
    expect([...marksFor("before", differences).values()]).toEqual(["removed"]);
    expect([...marksFor("after", differences).values()]).toEqual(["added"]);
  });
});

describe("foldLines", () => {
  const document = (size: number, changedAt: number | null) => {
    const value: Record<string, number> = {};
    for (let i = 0; i < size; i += 1) value[`k${i}`] = i;
    const after = { ...value };
    if (changedAt !== null) after[`k${changedAt}`] = -1;
    const lines = jsonLines(after as never, marksFor("after", jsonDifferences(value as never, after as never)));
    return lines;
  };

  it("shows a short document whole", () => {
    expect(foldLines(document(10, 3))).toEqual([{ kind: "lines", lines: document(10, 3) }]);
  });

  it("keeps the changed line and two around it, folding the rest", () => {
    // 102 lines: "{", k0..k99, "}"; k50 is line 51.
    const runs = foldLines(document(100, 50));
    expect(runs.map((run) => (run.kind === "folded" ? run.count : run.lines.map((line) => line.text)))).toEqual([
      49,
      ["48", "49", "-1", "51", "52"],
      48,
    ]);
  });

  it("without a change, shows the beginning", () => {
    const runs = foldLines(document(100, null), 30);
    expect(runs).toHaveLength(2);
    expect(runs[0]?.kind === "lines" && runs[0].lines).toHaveLength(30);
    expect(runs[1]).toEqual({ kind: "folded", count: 72 });
  });

  it("never folds fewer than three lines", () => {
    // 42 lines: "{", k0..k39, "}". k37 (line 38) changed: 36..40 kept, the closing bracket alone is not folded.
    const runs = foldLines(document(40, 37), 30);
    expect(runs.map((run) => (run.kind === "folded" ? run.count : run.lines.map((line) => line.text)))).toEqual([
      36,
      ["35", "36", "-1", "38", "39", "}"],
    ]);
  });
});
