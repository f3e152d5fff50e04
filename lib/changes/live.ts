import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { Invalid } from "../errors";
import { columns, toChange, type Change, type ChangeRow } from "./change";
import type { ChangeFilters } from "./params";
import { resolveScope, rowConditions } from "./scope";
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
 * reads only what is past its position, from its (source_id, commit_lsn, seq) index.
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
    const branches = ids.map((id) => {
      const lsn = positions.get(id.replace(/-/g, "").slice(0, 12)) ?? "0/0";
      const where = [...conditions, sql`c.source_id = ${id}::uuid`, sql`c.commit_lsn > ${lsn}::pg_lsn`];
      return sql`(
        select ${columns} from changes c where ${sql.join(where, sql` and `)}
         order by c.commit_lsn desc, c.seq desc limit ${limit + 1})`;
    });
    const result = await tx.execute<ChangeRow>(sql`
      select * from (${sql.join(branches, sql` union all `)}) page order by page.id::bigint desc limit ${limit + 1}`);
    const rows = result.rows;
    return { changes: rows.slice(0, limit).map(toChange), token: next, more: rows.length > limit };
  });
}
