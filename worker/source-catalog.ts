import type pg from "pg";
import type { Pgoutput } from "pg-logical-replication";
import type { Db } from "../lib/db/client";
import { isBuiltinType, type ValueType } from "../lib/replication/decode";
import { relationKeyColumns } from "../lib/replication/keys";
import type { CatalogLookups, RelationShape } from "../lib/replication/lookups";
import { resolveType } from "../lib/replication/types";
import { catalogTypes } from "../lib/sources/catalog-types";
import { publishedRelationFacts, publishes, relationFacts, type RelationFacts } from "../lib/sources/relations";
import { addTrackedTables } from "../lib/sources/tracked-table-queries";
import { rememberedRelation, rememberRelations } from "../lib/sources/remembered-relations";

/**
 * What the rows of a relation need beyond the relation message, looked up in the source catalog
 * when the relation message is handled (the server sends one before a relation's first change in
 * a session and again after DDL on it), before the changes that follow it are built:
 *
 * - Partition root: a partition's changes are recorded as its root (the publication sends them as
 *   the partition, lib/sources/publication.ts says why).
 * - Key columns: from the message's own key flags where they say what the key was when the
 *   change was made (REPLICA IDENTITY DEFAULT or USING INDEX), else (FULL, NOTHING) from the
 *   catalog NOW; see lib/replication/keys.ts for what that means for old changes.
 * - Column types that are not built-in: resolved in the catalog NOW (a domain to its base
 *   type, an array to its element type and delimiter). What a type OID stands for does not
 *   change while the type exists; a type dropped since the change decodes as text.
 * - Generated columns, from the catalog NOW: those the relation message lacks were not
 *   published, and are listed as unavailable (a generated column added since the change was
 *   made is listed too, one dropped since is not).
 *
 * The stream also carries changes of relations dropped since they were made (the worker was
 * stopped, paused or behind): the catalog no longer has those, and their facts come from what
 * the store remembers (lib/sources/remembered-relations.ts), recorded when the tables were
 * tracked and refreshed here whenever the catalog has the relation.
 */
/** How often, and how far apart, a relation the catalog does not show yet is looked up again (catalogFacts). */
const CATALOG_RETRIES = 10;
const CATALOG_RETRY_MS = 50;

export class CatalogCache {
  private readonly keys = new Map<number, string[]>();
  private readonly shapes = new Map<number, RelationShape>();
  /** Non-built-in column types by (unsigned) type OID. */
  private readonly types = new Map<number, ValueType>();
  /** What this session remembered in the store, by OID (and as JSON): an unchanged relation is not written again. */
  private readonly remembered = new Map<number, { facts: RelationFacts; json: string }>();
  /** For the TransactionBuilder. */
  readonly lookups: CatalogLookups = {
    keys: (oid) => this.keys.get(oid),
    types: (oid) => this.types.get(oid >>> 0),
    shapes: (oid) => this.shapes.get(oid),
  };

  /** Relations this session already made sure the store lists as tracked (track new tables automatically). */
  private readonly listed = new Set<number>();

  /**
   * `store` remembers the relations of source `sourceId`, whose stream is `publicationName`'s. With
   * `trackNewTables`, a published table the store does not list as tracked yet (one the source's trigger
   * added when it was created, lib/sources/new-tables.ts) is listed when its relation message arrives.
   */
  constructor(
    private readonly memory: { store: Db; sourceId: string; publicationName: string; trackNewTables?: boolean },
  ) {}

  /**
   * Remembers what the catalog says now of every relation the publication covers, partitions
   * created or attached since the tables were tracked included: one of them dropped before its
   * changes are decoded keeps its key and root, even if this session never reads it otherwise.
   */
  async rememberPublication(client: pg.ClientBase): Promise<void> {
    const { store, sourceId, publicationName } = this.memory;
    const relations = await publishedRelationFacts(client, publicationName);
    await rememberRelations(store, sourceId, relations);
    for (const facts of relations) this.remembered.set(facts.oid, { facts, json: JSON.stringify(facts) });
  }

  /** Looks up (again) what `relation` needs, on the session's catalog connection. */
  async load(client: pg.ClientBase, relation: Pgoutput.MessageRelation): Promise<void> {
    const facts = await this.facts(client, relation.relationOid);
    if (this.memory.trackNewTables && facts) await this.listAsTracked(client, facts);
    this.keys.set(relation.relationOid, relationKeyColumns(relation, facts?.indexes ?? []));
    this.shapes.set(relation.relationOid, {
      generatedColumns: facts?.generatedColumns ?? [],
      root: facts?.root ?? null,
    });
    const typeOids = [...new Set(relation.columns.map((column) => column.typeOid >>> 0))].filter(
      (oid) => !isBuiltinType(oid),
    );
    if (typeOids.length === 0) return;
    const rows = await catalogTypes(client, typeOids);
    for (const oid of typeOids) this.types.set(oid, resolveType(oid, rows));
  }

  private async listAsTracked(client: pg.ClientBase, facts: RelationFacts): Promise<void> {
    if (this.listed.has(facts.oid)) return;
    const { store, sourceId, publicationName } = this.memory;
    // A partition's changes are its root's: the root is what is tracked.
    const table = facts.root ?? { schema: facts.schema, table: facts.table };
    if (await publishes(client, publicationName, facts.oid)) {
      await addTrackedTables(store, sourceId, [{ schema: table.schema, table: table.table }]);
    }
    this.listed.add(facts.oid);
  }

  /**
   * The catalog's facts of a relation, or null when it has none. A table created by the transaction being
   * decoded (CREATE TABLE, then rows, in one transaction; a table the new-tables trigger published) can be
   * missing for a moment: the server sends a transaction once its commit record is flushed, and other sessions
   * see the commit a little later. So a relation neither the catalog nor the store knows is looked up again for
   * up to ~0.5 s before it is taken as dropped (its changes then have no key, and a partition's are recorded
   * under its own name).
   */
  private async catalogFacts(client: pg.ClientBase, relationOid: number): Promise<RelationFacts | null> {
    const { store, sourceId } = this.memory;
    for (let attempt = 0; ; attempt++) {
      const [found] = await relationFacts(client, [relationOid]);
      if (found) return found;
      if (attempt >= CATALOG_RETRIES || (await rememberedRelation(store, sourceId, relationOid))) return null;
      await new Promise((resolve) => setTimeout(resolve, CATALOG_RETRY_MS));
    }
  }

  /**
   * The catalog's facts of a relation now, remembered in the store; for a relation the catalog
   * no longer has, what the store remembers (null: nothing, so no key is known).
   */
  private async facts(client: pg.ClientBase, relationOid: number): Promise<RelationFacts | null> {
    const { store, sourceId } = this.memory;
    const found = await this.catalogFacts(client, relationOid);
    if (!found) return rememberedRelation(store, sourceId, relationOid);
    const current = found.root ? found : await this.withFormerRoot(client, found);
    const json = JSON.stringify(current);
    if (this.remembered.get(current.oid)?.json !== json) {
      await rememberRelations(store, sourceId, [current]);
      this.remembered.set(current.oid, { facts: current, json });
    }
    return current;
  }

  /**
   * A relation that is no partition now, but was one when last remembered, and that the
   * publication does not publish now: it was detached since, and its changes still arriving were
   * made while it was a partition, so they are its root's (published via the root, the server
   * would have named the root itself). A relation this session already knows without a root
   * costs no lookup.
   */
  private async withFormerRoot(client: pg.ClientBase, current: RelationFacts): Promise<RelationFacts> {
    const { store, sourceId, publicationName } = this.memory;
    const known = this.remembered.get(current.oid)?.facts;
    const root = known ? known.root : (await rememberedRelation(store, sourceId, current.oid))?.root;
    if (!root || (await publishes(client, publicationName, current.oid))) return current;
    return { ...current, root };
  }
}

/** The slot's confirmed position: acknowledging it again is always safe. */
export async function slotConfirmedLsn(client: pg.ClientBase, slotName: string): Promise<string> {
  const { rows } = await client.query<{ confirmed: string | null }>(
    "select confirmed_flush_lsn::text as confirmed from pg_replication_slots " +
      "where slot_name = $1 and database = current_database()",
    [slotName],
  );
  const [slot] = rows;
  if (!slot) throw new Error(`Replication slot ${slotName} does not exist in this database`);
  return slot.confirmed ?? "0/0";
}
