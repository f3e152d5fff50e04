import type { Pgoutput } from "pg-logical-replication";

/**
 * A unique index of a source table as the catalog has it NOW (when the relation message is
 * handled, which may be long after the changes it describes): the primary key and/or the
 * replica identity index. `columns` are its key columns (INCLUDE columns left out) in index order.
 */
export type CatalogIndex = {
  primary: boolean;
  replicaIdentity: boolean;
  /** False for a DEFERRABLE index (pgoutput never treats one as the replica identity). */
  immediate: boolean;
  columns: ReadonlyArray<{ name: string; generated: boolean }>;
};

const names = (index: CatalogIndex | undefined): string[] => index?.columns.map((column) => column.name) ?? [];

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name) => b.includes(name));
}

/**
 * The key columns to label a relation's changes with, in key order ([] = no key). Pure.
 *
 * The relation message is decoded with the catalog AS OF the changes that follow it, and flags
 * the columns of the replica identity key then in force. So:
 * - REPLICA IDENTITY DEFAULT (the key is the primary key) or USING INDEX (the key is that unique
 *   index): the flagged columns ARE the key of the change, exactly, whatever the catalog says
 *   by now (renamed, dropped, added or replaced keys included). With USING INDEX that is the
 *   identity index, which the source itself identifies rows by, not necessarily the primary key.
 * - Their ORDER is not in the stream: flags come in table column order, and a composite key's
 *   definition order (`primary key (b, a)`) may differ. It is taken from the catalog's index
 *   when that index still has exactly the flagged columns (the key did not change since); a
 *   composite key that no longer exists in that form stays in table column order.
 * - No flagged column under DEFAULT means no usable primary key then, except that pgoutput
 *   never flags a DEFERRABLE primary key: if the catalog has one now, it is used.
 * - pgoutput does not send generated columns, so it cannot flag one: a key with a generated
 *   column is the catalog's (such a key then yields no value, as that column is never sent).
 * - REPLICA IDENTITY FULL (Retrace's default) flags every column and NOTHING flags none: the
 *   stream has no key information at all, and the primary key is the catalog's at decode time.
 *   A worker that decodes old changes after the key changed labels them with the current key.
 */
export function relationKeyColumns(
  relation: Pick<Pgoutput.MessageRelation, "replicaIdentity" | "keyColumns">,
  catalog: readonly CatalogIndex[],
): string[] {
  const primary = catalog.find((index) => index.primary);
  if (relation.replicaIdentity === "full" || relation.replicaIdentity === "nothing") return names(primary);

  const identity = relation.replicaIdentity === "default" ? primary : catalog.find((index) => index.replicaIdentity);
  if (identity?.columns.some((column) => column.generated)) return names(identity);
  const flagged = relation.keyColumns;
  if (flagged.length === 0) {
    return relation.replicaIdentity === "default" && primary && !primary.immediate ? names(primary) : [];
  }
  if (identity && sameSet(names(identity), flagged)) return names(identity);
  return [...flagged];
}
