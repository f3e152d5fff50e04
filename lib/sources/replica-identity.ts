import type pg from "pg";
import type { OriginalIdentity } from "../db/schema/sources";
import type { TableRef } from "./input";
import { quoteIdent, quoteTable } from "./sql";

/**
 * Replica identities at the source: what the tracked tables (and the partitions below them) have,
 * setting FULL so old rows carry whole before images, and giving back what Retrace changed.
 */

/** A relation's replica identity, and the tracked table it belongs to (itself, or the root above it). */
export type IdentityState = OriginalIdentity & { tracked: TableRef };

export const tableKey = (t: TableRef) => `${t.schema}\u0000${t.table}`;

export function fromKey(k: string): TableRef {
  const [schema = "", table = ""] = k.split("\u0000");
  return { schema, table };
}

/**
 * The chosen tables and every partition / inheritance child below them: a partition's own
 * replica identity decides what its old rows carry, even when published via the root.
 */
async function identityStates(client: pg.Client, tables: readonly TableRef[]): Promise<IdentityState[]> {
  if (tables.length === 0) return [];
  const { rows } = await client.query<{
    schema: string;
    name: string;
    relreplident: string;
    identity_index: string | null;
    tracked_schema: string;
    tracked_table: string;
  }>(
    `with recursive chosen as (
       select c.oid, t.schema, t.name
         from unnest($1::text[], $2::text[]) as t(schema, name)
         join pg_namespace n on n.nspname = t.schema
         join pg_class c on c.relnamespace = n.oid and c.relname = t.name
     ), tree as (
       select oid, schema, name from chosen
       union
       select i.inhrelid, tree.schema, tree.name from pg_inherits i join tree on i.inhparent = tree.oid
     )
     select n.nspname::text as schema, c.relname::text as name, c.relreplident::text as relreplident,
            (select ic.relname::text from pg_index x join pg_class ic on ic.oid = x.indexrelid
              where x.indrelid = c.oid and x.indisreplident) as identity_index,
            tree.schema as tracked_schema, tree.name as tracked_table
       from tree
       join pg_class c on c.oid = tree.oid
       join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p')`,
    [tables.map((t) => t.schema), tables.map((t) => t.table)],
  );
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    relreplident: r.relreplident,
    identityIndex: r.identity_index,
    tracked: { schema: r.tracked_schema, table: r.tracked_table },
  }));
}

export function restoreIdentitySql(state: OriginalIdentity): string {
  const table = quoteTable({ schema: state.schema, table: state.name });
  switch (state.relreplident) {
    case "n":
      return `alter table ${table} replica identity nothing`;
    case "i":
      return state.identityIndex
        ? `alter table ${table} replica identity using index ${quoteIdent(state.identityIndex)}`
        : `alter table ${table} replica identity default`;
    case "f":
      return `alter table ${table} replica identity full`;
    default:
      return `alter table ${table} replica identity default`;
  }
}

export function byTrackedTable(states: readonly IdentityState[]): Map<string, OriginalIdentity[]> {
  const map = new Map<string, OriginalIdentity[]>();
  for (const { tracked, ...original } of states) {
    const list = map.get(tableKey(tracked)) ?? [];
    list.push(original);
    map.set(tableKey(tracked), list);
  }
  return map;
}

/**
 * The statements that give relations back the replica identity they had before Retrace set FULL, for those still
 * FULL (one someone changed since is theirs) that still exist. An identity index dropped since cannot be the
 * identity again: DEFAULT (the primary key) is the nearest.
 */
export async function identityRestoreStatements(
  client: pg.Client,
  originals: readonly OriginalIdentity[],
): Promise<string[]> {
  const wanted = originals.filter((o) => o.relreplident !== "f");
  if (wanted.length === 0) return [];
  const { rows } = await client.query<{ schema: string; name: string; index_gone: boolean }>(
    `select n.nspname::text as schema, c.relname::text as name,
            t.index is not null and not exists (
              select 1 from pg_class i where i.relnamespace = n.oid and i.relname = t.index and i.relkind = 'i'
            ) as index_gone
       from unnest($1::text[], $2::text[], $3::text[]) as t(schema, name, index)
       join pg_namespace n on n.nspname = t.schema
       join pg_class c on c.relnamespace = n.oid and c.relname = t.name
      where c.relreplident = 'f'`,
    [wanted.map((o) => o.schema), wanted.map((o) => o.name), wanted.map((o) => o.identityIndex)],
  );
  const full = new Map(rows.map((r) => [`${r.schema}\u0000${r.name}`, r.index_gone]));
  return wanted.flatMap((original) => {
    const indexGone = full.get(`${original.schema}\u0000${original.name}`);
    if (indexGone === undefined) return [];
    return [restoreIdentitySql(indexGone ? { ...original, relreplident: "d" } : original)];
  });
}

/** Gives untracked relations back their replica identity (identityRestoreStatements); a failure is thrown. */
export async function restoreIdentities(client: pg.Client, originals: readonly OriginalIdentity[]): Promise<void> {
  for (const statement of await identityRestoreStatements(client, originals)) await client.query(statement);
}

/** Sets REPLICA IDENTITY FULL (full before images) and returns what each table had before. */
export async function setIdentityFull(client: pg.Client, tables: readonly TableRef[]): Promise<IdentityState[]> {
  const states = await identityStates(client, tables);
  for (const state of states) {
    if (state.relreplident === "f") continue;
    await client.query(`alter table ${quoteTable({ schema: state.schema, table: state.name })} replica identity full`);
  }
  return states.filter((s) => s.relreplident !== "f");
}
