import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { Invalid } from "../errors";
import { columns, toChange, type Change, type ChangeRow } from "./change";
import type { ChangeFilters } from "./params";
import { resolveScope, rowConditions } from "./scope";
import { bucketBounds, parentFirst, partitionBuckets, unionOf, utcText } from "./partitions";
import { inSnapshot } from "./snapshot";

/**
 * The live tail: what was stored since a list was read. Ids cannot say it: they are drawn as rows go in, so a
 * store transaction of one source that commits later can hold smaller ids than one of another source already
 * shown. Within a source, though, everything is stored in commit order with its checkpoint (the source's
 * checkpoint_lsn moves in the store transaction of its rows): the token is each source's checkpoint as the list's
 * snapshot saw it, and what is new is, per source, what was committed at the source after it.
 */

export type LivePage = { changes: Change[]; token: string; more: boolean };

// A source in a token: the first 12 hex digits of its id (unique enough among one store's sources) and its LSN.
const ENTRY = /^([0-9a-f]{12})([0-9A-F]{1,8}\/[0-9A-F]{1,8})$/;

function invalidToken(): Invalid {
  const message = "this token is not valid; use the liveToken of a list or the token of a previous live call";
  return new Invalid(`token: ${message}`, [{ path: "token", message }]);
}

/** The token of the current snapshot: every source's checkpoint. */
export async function readLiveToken(db: Queryable): Promise<string> {
  const found = await db.execute<{ id: string; lsn: string }>(
    sql`select id::text as id, coalesce(checkpoint_lsn, '0/0')::text as lsn from sources order by id`,
  );
  const entries = found.rows.map((row) => `${row.id.replace(/-/g, "").slice(0, 12)}${row.lsn}`);
  return Buffer.from(`l:${entries.join(",")}`, "utf8").toString("base64url");
}

/** Each source's position in a token, by the start of its id. Invalid (400) for anything not handed out. */
export function decodeLiveToken(token: string): Map<string, string> {
  const text = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, "base64url").toString("utf8") : "";
  if (!text.startsWith("l:")) throw invalidToken();
  const positions = new Map<string, string>();
  for (const entry of text.slice(2) === "" ? [] : text.slice(2).split(",")) {
    const [, prefix = "", lsn = ""] = ENTRY.exec(entry) ?? [];
    if (prefix === "" || positions.has(prefix)) throw invalidToken();
    positions.set(prefix, lsn);
  }
  return positions;
}

/**
 * The changes of the filters stored since the token, newest first, at most `limit` (`more` when there are more:
 * the reader is too far behind for a tail and should reload the list), and the token to continue from. Each source
 * reads only what is past its position, from its (source_id, commit_lsn, seq) index, in the partitions that can
 * hold it (sinceBranches).
 */
export async function liveChanges(
  db: Queryable,
  filters: ChangeFilters,
  token: string,
  limit: number,
): Promise<LivePage> {
  const positions = decodeLiveToken(token);
  return inSnapshot(db, async (tx) => {
    const next = await readLiveToken(tx);
    const scope = await resolveScope(tx, filters);
    if (scope === null) return { changes: [], token: next, more: false };
    const sources = await tx.execute<{ id: string }>(sql`select id::text as id from sources order by id`);
    const ids = sources.rows.map((row) => row.id).filter((id) => scope.sourceIds?.includes(id) ?? true);
    if (ids.length === 0) return { changes: [], token: next, more: false };
    const conditions = rowConditions(scope);
    const branches = await sinceBranches(tx, ids, positions, conditions, limit + 1);
    if (branches.length === 0) return { changes: [], token: next, more: false };
    const result = await tx.execute<ChangeRow>(sql`${unionOf(branches, sql`page.id::bigint desc`)} limit ${limit + 1}`);
    const rows = result.rows;
    return { changes: rows.slice(0, limit).map(toChange), token: next, more: rows.length > limit };
  });
}

/**
 * Per source, the reads of what it committed after its position: in the default partition, and in each bucket's
 * partitions between the earliest and the latest commit time a newer change can have (lib/changes/partitions.ts).
 * Those come from the change summary, written in the store transaction of the changes it counts: the commit times
 * of the source's segments that reach past the position (a segment holding a newer change does). A source with no
 * such segment has nothing new, and is not read at all.
 */
async function sinceBranches(
  db: Queryable,
  sourceIds: string[],
  positions: Map<string, string>,
  conditions: SQL[],
  limit: number,
): Promise<SQL[]> {
  const wanted = sourceIds.map((id) => ({ id, lsn: positions.get(id.replace(/-/g, "").slice(0, 12)) ?? "0/0" }));
  const values = sql.join(
    wanted.map((source) => sql`(${source.id}::uuid, ${source.lsn}::pg_lsn)`),
    sql`, `,
  );
  const found = await db.execute<{ id: string; lsn: string; since: string | null; until: string }>(sql`
    select v.id::text as id, v.lsn::text as lsn, ${utcText("w.since")} as since, ${utcText("w.until")} as until
      from (values ${values}) v(id, lsn),
           lateral (select min(s.min_at) as since, max(s.max_at) as until from change_segments s
                     where s.source_id = v.id and s.max_lsn > v.lsn) w`);
  const newer = found.rows.filter((row) => row.since !== null);
  if (newer.length === 0) return [];
  const buckets = await partitionBuckets(db);
  const filter = conditions.length > 0 ? sql` and ${sql.join(conditions, sql` and `)}` : sql``;
  const groups = newer.map(({ id, lsn, since, until }) => {
    const past = sql`c.commit_lsn > ${lsn}::pg_lsn${filter}`;
    const branch = (relation: SQL, bounds: SQL) => sql`(
      select ${columns} from ${relation} c where ${bounds} and ${past}
       order by c.commit_lsn desc, c.seq desc limit ${limit})`;
    const committed = sql`c.committed_at between ${since}::timestamptz and ${until}::timestamptz`;
    return {
      inDefault: branch(sql`changes_default`, sql`c.source_id = ${id}::uuid`),
      inBuckets: (buckets.get(id) ?? []).map((bucket) => branch(sql`changes`, bucketBounds(id, bucket, committed))),
    };
  });
  return parentFirst(groups);
}
