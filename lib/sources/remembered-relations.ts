import { and, eq, sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { sourceRelations } from "../db/schema";
import type { RelationFacts } from "./relations";

/**
 * The store's memory of a source's relations (lib/db/schema/sources.ts, `source_relations`): the
 * source catalog's facts as last read, for changes decoded once the catalog no longer has them.
 */

/** Records (or refreshes) what the source catalog says of these relations now. */
export async function rememberRelations(
  db: Queryable,
  sourceId: string,
  relations: readonly RelationFacts[],
): Promise<void> {
  if (relations.length === 0) return;
  await db
    .insert(sourceRelations)
    .values(
      relations.map((relation) => ({
        sourceId,
        relationOid: relation.oid,
        schema: relation.schema,
        table: relation.table,
        keyIndexes: relation.indexes,
        generatedColumns: relation.generatedColumns,
        rootSchema: relation.root?.schema ?? null,
        rootTable: relation.root?.table ?? null,
        rootColumns: relation.root?.columns ?? null,
      })),
    )
    .onConflictDoUpdate({
      target: [sourceRelations.sourceId, sourceRelations.relationOid],
      set: {
        schema: sql`excluded.schema`,
        table: sql`excluded."table"`,
        keyIndexes: sql`excluded.key_indexes`,
        generatedColumns: sql`excluded.generated_columns`,
        rootSchema: sql`excluded.root_schema`,
        rootTable: sql`excluded.root_table`,
        rootColumns: sql`excluded.root_columns`,
        recordedAt: sql`now()`,
      },
    });
}

/** What was last recorded of a relation (OID as the stream has it), or null if nothing was. */
export async function rememberedRelation(
  db: Queryable,
  sourceId: string,
  relationOid: number,
): Promise<RelationFacts | null> {
  const [row] = await db
    .select()
    .from(sourceRelations)
    .where(and(eq(sourceRelations.sourceId, sourceId), eq(sourceRelations.relationOid, relationOid >>> 0)));
  if (!row) return null;
  return {
    oid: row.relationOid,
    schema: row.schema,
    table: row.table,
    indexes: row.keyIndexes,
    generatedColumns: row.generatedColumns,
    root:
      row.rootSchema !== null && row.rootTable !== null
        ? { schema: row.rootSchema, table: row.rootTable, columns: row.rootColumns ?? [] }
        : null,
  };
}
