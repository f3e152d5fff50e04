import { describe, expect, it } from "vitest";
import { quoteIdent, quoteLiteral, quoteTable } from "./sql";

describe("quoting", () => {
  it("quotes identifiers exactly", () => {
    expect(quoteIdent("items")).toBe('"items"');
    expect(quoteIdent('We"ird Name')).toBe('"We""ird Name"');
    expect(quoteTable({ schema: "Sales", table: "order items" })).toBe('"Sales"."order items"');
    expect(() => quoteIdent("a\u0000b")).toThrow();
  });

  it("quotes literals", () => {
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(quoteLiteral("a\\b")).toBe("E'a\\\\b'");
    expect(quoteLiteral("")).toBe("''");
    expect(() => quoteLiteral("a\u0000b")).toThrow();
  });
});
