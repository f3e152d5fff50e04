import { describe, expect, it } from "vitest";
import type { ValueType } from "./decode";
import { resolveType, type CatalogType } from "./types";

const row = (oid: number, fields: Partial<Omit<CatalogType, "oid">>): CatalogType => ({
  oid,
  domainBase: null,
  arrayElement: null,
  elementDelimiter: null,
  ...fields,
});

// User OIDs as a source catalog might hand them out.
const MOOD = 16_385;
const MOOD_ARRAY = 16_384;
const POSINT = 16_390;
const POSINT_ARRAY = 16_389;
const SMALLPOS = 16_395; // a domain over the domain posint
const INTS = 16_400; // a domain over int4[]
const INTS_ARRAY = 16_399;
const PAIR = 16_410; // a composite type
const PAIR_ARRAY = 16_409;
const SEMI = 16_420; // a base type of an extension with DELIMITER ';'
const SEMI_ARRAY = 16_419;
const HUGE = 4_294_967_000; // beyond 2^31: the library reads it as a negative number

const catalog = new Map<number, CatalogType>(
  [
    row(MOOD, {}),
    row(MOOD_ARRAY, { arrayElement: MOOD, elementDelimiter: "," }),
    row(POSINT, { domainBase: 23 }),
    row(POSINT_ARRAY, { arrayElement: POSINT, elementDelimiter: "," }),
    row(SMALLPOS, { domainBase: POSINT }),
    row(INTS, { domainBase: 1007 }),
    row(INTS_ARRAY, { arrayElement: INTS, elementDelimiter: "," }),
    row(PAIR, {}),
    row(PAIR_ARRAY, { arrayElement: PAIR, elementDelimiter: "," }),
    row(SEMI, {}),
    row(SEMI_ARRAY, { arrayElement: SEMI, elementDelimiter: ";" }),
    row(HUGE, { domainBase: 1700 }),
  ].map((type) => [type.oid, type]),
);

const scalar = (oid: number): ValueType => ({ kind: "scalar", oid });
const array = (element: ValueType, delimiter = ","): ValueType => ({ kind: "array", element, delimiter });

describe("resolveType", () => {
  it("resolves domains to their base type, recursively", () => {
    expect(resolveType(POSINT, catalog)).toEqual(scalar(23));
    expect(resolveType(SMALLPOS, catalog)).toEqual(scalar(23));
    expect(resolveType(INTS, catalog)).toEqual(array(scalar(23)));
    expect(resolveType(HUGE | 0, catalog)).toEqual(scalar(1700));
  });

  it("resolves arrays to their element type and the element's delimiter", () => {
    expect(resolveType(MOOD_ARRAY, catalog)).toEqual(array(scalar(MOOD)));
    expect(resolveType(POSINT_ARRAY, catalog)).toEqual(array(scalar(23)));
    expect(resolveType(PAIR_ARRAY, catalog)).toEqual(array(scalar(PAIR)));
    expect(resolveType(SEMI_ARRAY, catalog)).toEqual(array(scalar(SEMI), ";"));
    expect(resolveType(INTS_ARRAY, catalog)).toEqual(array(array(scalar(23))));
  });

  it("keeps enums, composites and types missing from the catalog as text", () => {
    expect(resolveType(MOOD, catalog)).toEqual(scalar(MOOD));
    expect(resolveType(PAIR, catalog)).toEqual(scalar(PAIR));
    expect(resolveType(99_999, catalog)).toEqual(scalar(99_999));
  });

  it("resolves built-in OIDs without the catalog", () => {
    expect(resolveType(1020, new Map())).toEqual(array(scalar(603), ";"));
    expect(resolveType(25, new Map())).toEqual(scalar(25));
  });

  it("stops on a cyclic (corrupt) answer", () => {
    const cyclic = new Map<number, CatalogType>([
      [20_000, row(20_000, { domainBase: 20_001 })],
      [20_001, row(20_001, { domainBase: 20_000 })],
    ]);
    expect(resolveType(20_000, cyclic).kind).toBe("scalar");
  });
});
