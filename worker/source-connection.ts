import pg from "pg";

/**
 * Primary key columns of a relation, in key order, from the source catalog ([] = none). The
 * relation message cannot tell: with REPLICA IDENTITY FULL it flags every column as key.
 */
export async function primaryKeyColumns(client: pg.ClientBase, relationOid: number): Promise<string[]> {
  const { rows } = await client.query<{ attname: string }>(
    `select a.attname
       from pg_index i
       cross join lateral unnest(i.indkey) with ordinality as k(attnum, position)
       join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
      where i.indrelid = $1::oid and i.indisprimary
      order by k.position`,
    // The library reads the OID as a signed 32-bit integer.
    [String(relationOid >>> 0)],
  );
  return rows.map((row) => row.attname);
}

/** The slot's confirmed position: acknowledging it again is always safe. */
export async function slotConfirmedLsn(client: pg.ClientBase, slotName: string): Promise<string> {
  const { rows } = await client.query<{ confirmed: string | null }>(
    "select confirmed_flush_lsn::text as confirmed from pg_replication_slots where slot_name = $1 and database = current_database()",
    [slotName],
  );
  const [slot] = rows;
  if (!slot) throw new Error(`Replication slot ${slotName} does not exist in this database`);
  return slot.confirmed ?? "0/0";
}
