import { describe, expect, it } from "vitest";
import { ContextTooLargeError, MAX_CONTEXT_BYTES, currentContext, withContext } from "./context";
import { isWrite } from "./statements";

describe("withContext", () => {
  it("is in force through awaits and gone after", async () => {
    expect(currentContext()).toBeUndefined();
    const seen = await withContext({ userId: 1 }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return currentContext();
    });
    expect(seen).toEqual({ userId: 1 });
    expect(currentContext()).toBeUndefined();
  });

  it("merges nested contexts, inner keys winning, and restores the outer one", () => {
    withContext({ userId: 1, endpoint: "/a" }, () => {
      withContext({ endpoint: "/b", job: "x" }, () => {
        expect(currentContext()).toEqual({ userId: 1, endpoint: "/b", job: "x" });
      });
      expect(currentContext()).toEqual({ userId: 1, endpoint: "/a" });
    });
  });

  it("keeps concurrent work apart", async () => {
    const results = await Promise.all(
      [1, 2, 3].map((n) =>
        withContext({ n }, async () => {
          await new Promise((resolve) => setTimeout(resolve, 5 - n));
          return currentContext()?.n;
        }),
      ),
    );
    expect(results).toEqual([1, 2, 3]);
  });

  it("starts a lazy thenable inside the context", async () => {
    const lazy = { then: (resolve: (value: unknown) => void) => resolve(currentContext()) };
    expect(await withContext({ lazy: true }, () => lazy)).toEqual({ lazy: true });
  });

  it("refuses a context over the limit, counting bytes of its JSON", () => {
    // 'é' is two bytes: half the limit in characters is just over it in bytes.
    const big = { text: "é".repeat(MAX_CONTEXT_BYTES / 2) };
    expect(() => withContext(big, () => 1)).toThrow(ContextTooLargeError);
    expect(withContext({ text: "é".repeat(MAX_CONTEXT_BYTES / 2 - 10) }, () => 1)).toBe(1);
  });
});

describe("isWrite", () => {
  it("sees writes by their first keyword, past comments and parentheses", () => {
    for (const sql of [
      "insert into t values (1)",
      "  UPDATE t set a = 1",
      "delete from t",
      "-- note\nmerge into t using s on true when matched then delete",
      "/* c */ with x as (delete from t returning *) select * from x",
      "(insert into t values (1))",
      "truncate t",
      "copy t from stdin",
      "call p()",
      "do $$ begin end $$",
    ]) {
      expect(isWrite(sql), sql).toBe(true);
    }
    for (const sql of ["select 1", "begin", "commit", "savepoint s", "set x = 1", "show all", "", "/* only */"]) {
      expect(isWrite(sql), sql).toBe(false);
    }
  });
});
