import type pg from "pg";
import { quoteIdent } from "./sql";

/**
 * The options of Retrace's publications, by server version:
 * - `publish_via_partition_root = false`: a partitioned table's changes arrive as its leaf
 *   partitions (partitions attached later included), and the worker records them as the root
 *   (worker/source-catalog.ts reads which root). Published via the root instead, PostgreSQL sends
 *   nothing at all for a TRUNCATE of one partition (pgoutput's truncate callback skips a
 *   partition published as its root, and the root was not truncated): the rows would vanish from
 *   the trail unseen. Published as leaves, it arrives naming the partition.
 * - `publish_generated_columns = stored` (PostgreSQL 18+): stored generated columns are sent like
 *   any column, so images hold their values. Without it PostgreSQL 18 also refuses UPDATE and
 *   DELETE on a REPLICA IDENTITY FULL table with a stored generated column ("Replica identity
 *   must not contain unpublished generated columns"). Older servers never send generated columns
 *   (nor does any server send virtual ones): the worker lists them as unavailable.
 */
type PublicationOption = { name: string; value: string; catalog: { column: string; value: string } };

const AS_PARTITIONS: PublicationOption = {
  name: "publish_via_partition_root",
  value: "false",
  catalog: { column: "pubviaroot", value: "false" },
};

const GENERATED_COLUMNS: PublicationOption = {
  name: "publish_generated_columns",
  value: "stored",
  catalog: { column: "pubgencols", value: "s" },
};

type Queryable = Pick<pg.ClientBase, "query">;

export async function serverVersionNum(client: Queryable): Promise<number> {
  const { rows } = await client.query<{ v: number }>("select current_setting('server_version_num')::int as v");
  return rows[0]?.v ?? 0;
}

function publicationOptions(versionNum: number): PublicationOption[] {
  const options: PublicationOption[] = [];
  // Before 13 there is no such option: partitions are always published as themselves.
  if (versionNum >= 130000) options.push(AS_PARTITIONS);
  if (versionNum >= 180000) options.push(GENERATED_COLUMNS);
  return options;
}

/** ` with (…)` for CREATE PUBLICATION on this server, or "" when it takes none. */
export async function publicationOptionsSql(client: Queryable): Promise<string> {
  const options = publicationOptions(await serverVersionNum(client));
  return options.length === 0 ? "" : ` with (${options.map((o) => `${o.name} = ${o.value}`).join(", ")})`;
}

/**
 * Gives an existing publication the options above where it lacks them (one made by an older
 * Retrace); returns the options it set, [] when there was nothing to do or no such publication.
 * The change takes effect in the WAL where its transaction commits: changes before it are decoded
 * with the options they were made under, so the worker may run it whenever it starts streaming.
 */
export async function ensurePublicationOptions(client: pg.ClientBase, publicationName: string): Promise<string[]> {
  const options = publicationOptions(await serverVersionNum(client));
  if (options.length === 0) return [];
  const columns = options.map((o) => `${o.catalog.column}::text as ${o.catalog.column}`).join(", ");
  const { rows } = await client.query<Record<string, string>>(
    `select ${columns} from pg_publication where pubname = $1`,
    [publicationName],
  );
  const [current] = rows;
  if (!current) return [];
  const stale = options.filter((o) => current[o.catalog.column] !== o.catalog.value);
  if (stale.length === 0) return [];
  await client.query(
    `alter publication ${quoteIdent(publicationName)} set (${stale.map((o) => `${o.name} = ${o.value}`).join(", ")})`,
  );
  return stale.map((o) => `${o.name} = ${o.value}`);
}
