import { describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { toErrorResponse, type ErrorBody } from "../http/errors";
import { retentionUpdateSchema, ruleFor, type RetentionRule } from "./input";

/** The paths a body's 400 names, as the API answers it. */
async function pathsOf(body: unknown): Promise<string[]> {
  const parsed = retentionUpdateSchema.safeParse(body);
  if (parsed.success) return [];
  expect(parsed.error).toBeInstanceOf(ZodError);
  const answer = (await toErrorResponse(parsed.error).json()) as ErrorBody;
  return (answer.error.details as { path: string }[]).map((d) => d.path);
}

describe("retentionUpdateSchema", () => {
  it("takes environment rules and table overrides, archive defaulting to false", () => {
    const parsed = retentionUpdateSchema.parse({
      rules: [
        { environment: "test", table: null, days: 7, archive: true },
        { environment: "test", table: " public.orders ", days: 90 },
        { environment: "production", table: null, days: null, archive: false },
      ],
    });
    expect(parsed.rules).toEqual([
      { environment: "test", table: null, days: 7, archive: true },
      { environment: "test", table: "public.orders", days: 90, archive: false },
      { environment: "production", table: null, days: null, archive: false },
    ]);
    expect(retentionUpdateSchema.parse({ rules: [] }).rules).toEqual([]);
  });

  it("names the field of each bad rule", async () => {
    expect(await pathsOf({})).toEqual(["rules"]);
    expect(await pathsOf({ rules: [], extra: 1 })).toEqual(["extra"]);
    expect(await pathsOf({ rules: [{ environment: "test", table: null, days: 0 }] })).toEqual(["rules.0.days"]);
    expect(await pathsOf({ rules: [{ environment: "test", table: null, days: 36_501 }] })).toEqual(["rules.0.days"]);
    expect(await pathsOf({ rules: [{ environment: "test", table: null, days: 1.5 }] })).toEqual(["rules.0.days"]);
    expect(await pathsOf({ rules: [{ environment: "test", table: null, days: "7" }] })).toEqual(["rules.0.days"]);
    expect(await pathsOf({ rules: [{ environment: "test", table: "orders", days: 7 }] })).toEqual(["rules.0.table"]);
    expect(await pathsOf({ rules: [{ environment: "Prod!", table: null, days: 7 }] })).toEqual(["rules.0.environment"]);
    expect(await pathsOf({ rules: [{ environment: "test", table: null, days: 7, keep: 1 }] })).toEqual([
      "rules.0.keep",
    ]);
    expect(await pathsOf({ rules: [{ environment: "test", table: null, days: null, archive: true }] })).toEqual([
      "rules.0.archive",
    ]);
  });

  it("refuses a second rule for the same environment or table, naming the second", async () => {
    const rule = { environment: "test", table: null, days: 7 };
    expect(await pathsOf({ rules: [rule, { ...rule, days: 30 }] })).toEqual(["rules.1.environment"]);
    const table = { ...rule, table: "public.orders" };
    expect(await pathsOf({ rules: [table, rule, { ...table, table: "public.orders " }] })).toEqual(["rules.2.table"]);
    // The same table in two environments is two rules.
    expect(await pathsOf({ rules: [table, { ...table, environment: "staging" }] })).toEqual([]);
  });
});

describe("ruleFor", () => {
  const rules: RetentionRule[] = [
    { environment: "test", table: null, days: 7, archive: false },
    { environment: "test", table: "public.orders", days: 90, archive: true },
  ];
  it("answers the table's own rule, else its environment's, else none", () => {
    expect(ruleFor(rules, "test", "public.orders")?.days).toBe(90);
    expect(ruleFor(rules, "test", "public.items")?.days).toBe(7);
    expect(ruleFor(rules, "test", null)?.days).toBe(7);
    expect(ruleFor(rules, "production", "public.orders")).toBeUndefined();
  });
});
