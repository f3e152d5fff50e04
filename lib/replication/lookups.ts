import type { ValueType } from "./decode";

/**
 * What building rows (lib/replication/rows.ts) needs from the source catalog, looked up when a
 * relation message is handled (worker/source-catalog.ts) and read per relation message, never
 * per row.
 */

/** Primary key columns of a relation in key order ([] = no primary key); undefined = not loaded. */
export type KeyLookup = (relationOid: number) => readonly string[] | undefined;

/**
 * How to decode a column type that is not built-in (a domain, an array of a user-defined type),
 * as resolved from the source catalog; undefined = by its built-in rule (else text).
 */
export type TypeLookup = (typeOid: number) => ValueType | undefined;

/** What rows of a relation need from the source catalog besides its key and column types. */
export type RelationShape = {
  /** The table's generated columns: those its relation message lacks are not published. */
  generatedColumns: readonly string[];
  /**
   * For a partition: the root of its tree. Its row changes are recorded as the root's (images in
   * the root's column order), and a TRUNCATE of it as a TRUNCATE of the root naming it.
   */
  root: { schema: string; table: string; columns: readonly string[] } | null;
};

/** A relation's shape as looked up for its relation message; undefined = nothing known. */
export type ShapeLookup = (relationOid: number) => RelationShape | undefined;

/** What the builder needs from the source catalog, looked up when relation messages arrive. */
export type CatalogLookups = { keys: KeyLookup; types?: TypeLookup; shapes?: ShapeLookup };
