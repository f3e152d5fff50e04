import { describe, expect, it } from "vitest";
import { holdInputSchema } from "./input";

const valid = { database: "app", from: "2026-03-01T00:00:00Z", to: "2026-04-01T00:00:00+02:00", reason: " case 1 " };

function problems(input: unknown): string[] {
  const parsed = holdInputSchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join("."));
}

describe("holdInputSchema", () => {
  it("takes a database, ISO times with their zone and a reason, trimmed", () => {
    expect(holdInputSchema.parse(valid)).toEqual({
      database: "app",
      from: new Date("2026-03-01T00:00:00Z"),
      to: new Date("2026-03-31T22:00:00Z"),
      reason: "case 1",
    });
  });

  it("names the field that is wrong", () => {
    expect(problems({ ...valid, from: "2026-03-01T00:00:00" })).toEqual(["from"]);
    expect(problems({ ...valid, from: "2026-02-30T25:00:00Z" })).toEqual(["from"]);
    expect(problems({ ...valid, to: "2026-03-01" })).toEqual(["to"]);
    expect(problems({ ...valid, to: "2026-03-01T00:00:00Z" })).toEqual(["to"]);
    expect(problems({ ...valid, reason: "  " })).toEqual(["reason"]);
    expect(problems({ ...valid, reason: "x".repeat(501) })).toEqual(["reason"]);
    expect(problems({ ...valid, database: "" })).toEqual(["database"]);
    expect(problems({ ...valid, extra: 1 })).toEqual([""]);
  });
});
