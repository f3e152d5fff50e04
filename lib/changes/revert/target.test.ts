import { describe, expect, it } from "vitest";
import { readRevertTarget, revertHref } from "./target";

const read = (query: string) => readRevertTarget(new URLSearchParams(query));

describe("revert targets in the URL", () => {
  it("reads each kind, and round-trips through revertHref", () => {
    for (const target of [
      { changeId: "12" },
      { transactionOf: "9223372036854775807" },
      { context: '{"request_id":"a b&c","n":12345678901234567890}' },
      { context: '{"k":1}', sourceId: "00000000-0000-4000-8000-000000000001" },
    ]) {
      expect(read(revertHref(target).slice("/reverts?".length))).toEqual(target);
    }
  });

  it("names nothing when a value is wrong", () => {
    expect(read("")).toBeNull();
    expect(read("changeId=0")).toBeNull();
    expect(read("changeId=1e3")).toBeNull();
    expect(read("context=[1]")).toBeNull();
    expect(read("context={}")).toBeNull();
    expect(read("context={nope")).toBeNull();
  });
});
