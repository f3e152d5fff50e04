import { describe, expect, it } from "vitest";
import { expirySignatureValid, signExpiry } from "./expiry-signature";
import { bucketTables, resolveRetention, type RetentionRule } from "./rules";

const rules: RetentionRule[] = [
  { environment: "test", table: "", days: 7, archive: false },
  { environment: "test", table: "public.audit", days: null, archive: false },
  { environment: "staging", table: "public.events", days: 2, archive: true },
];

describe("retention rules", () => {
  it("resolves a bucket to its table's rule, else its environment's, else forever", () => {
    expect(resolveRetention(rules, "test", "")).toEqual({ days: 7, archive: false });
    expect(resolveRetention(rules, "test", "public.audit")).toEqual({ days: null, archive: false });
    // A table bucket whose rule was removed since: its environment's rule.
    expect(resolveRetention(rules, "test", "public.gone")).toEqual({ days: 7, archive: false });
    expect(resolveRetention(rules, "staging", "public.events")).toEqual({ days: 2, archive: true });
    expect(resolveRetention(rules, "staging", "")).toEqual({ days: null, archive: false });
    expect(resolveRetention(rules, "production", "")).toEqual({ days: null, archive: false });
  });

  it("gives tables with a rule of their own a bucket, per environment", () => {
    expect(bucketTables(rules, "test")).toEqual(["public.audit"]);
    expect(bucketTables(rules, "production")).toEqual([]);
  });

  it("signs an expiry so that any change to it shows", () => {
    const expiry = {
      partition: "changes_0123abcd4567_s_20261201",
      sourceId: "0123abcd-4567-89ef-0123-456789abcdef",
      bucket: "",
      fromAt: new Date("2026-12-01"),
      toAt: new Date("2026-12-02"),
      changes: 10,
      minChangeId: "1",
      maxChangeId: "10",
      archiveLocation: null,
    };
    const signature = signExpiry(expiry, "secret-one");
    expect(expirySignatureValid(expiry, signature, "secret-one")).toBe(true);
    expect(expirySignatureValid(expiry, signature, "secret-two")).toBe(false);
    expect(expirySignatureValid({ ...expiry, toAt: new Date("2026-12-03") }, signature, "secret-one")).toBe(false);
    expect(expirySignatureValid({ ...expiry, bucket: "public.x" }, signature, "secret-one")).toBe(false);
  });
});
