import { builtinType, isBuiltinType, type ValueType } from "./decode";

/**
 * One pg_type row of the source, as far as decoding needs it (worker/source-catalog.ts reads
 * them). OIDs are unsigned.
 */
export type CatalogType = {
  oid: number;
  /** typbasetype when the type is a domain, else null. */
  domainBase: number | null;
  /** typelem when the type is a true array type (its element's typarray points back), else null. */
  arrayElement: number | null;
  /** typdelim of the array's element type (what array_out separates elements with); arrays only. */
  elementDelimiter: string | null;
};

// Domains over domains and arrays of domains over arrays nest; the catalog cannot make a cycle,
// but a bound keeps a corrupt or partial answer from recursing forever.
const MAX_DEPTH = 32;

/**
 * The ValueType of a type OID, from the source catalog rows: a domain decodes as its base type
 * (recursively), an array as an array of its element type with the element's delimiter, every
 * other non-built-in type (enum, composite, range, base types of extensions) as text. A type
 * missing from the rows (dropped since the change was made) is text too: nothing is invented.
 * Pure.
 */
export function resolveType(typeOid: number, catalog: ReadonlyMap<number, CatalogType>): ValueType {
  const resolve = (oid: number, depth: number): ValueType => {
    if (isBuiltinType(oid) || depth > MAX_DEPTH) return builtinType(oid);
    const row = catalog.get(oid);
    if (row && row.domainBase !== null) return resolve(row.domainBase, depth + 1);
    if (row && row.arrayElement !== null) {
      return { kind: "array", element: resolve(row.arrayElement, depth + 1), delimiter: row.elementDelimiter ?? "," };
    }
    // Not a built-in, so decodeScalar has no rule for it: its text.
    return { kind: "scalar", oid };
  };
  return resolve(typeOid >>> 0, 0);
}
