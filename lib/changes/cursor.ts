import { Invalid } from "../errors";

const MAX_ID = 9223372036854775807n;
const MAX_SEQ = 2147483647;

/** Where a source's changes stand in a merged list: its last change shown, by its unique key. */
export type SourcePosition = { commitLsn: string; seq: number };

/**
 * A keyset cursor: continue below `id`. A list merged from several sources (an environment, a
 * source) also carries, for each source that has shown a change, that change's (commit_lsn,
 * seq), where the source's next rows start in its (source_id, commit_lsn, seq) index.
 */
export type Cursor = { id: string; positions: ReadonlyMap<string, SourcePosition> };

const ID = /^[1-9][0-9]{0,18}$/;
const POSITION =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@([0-9A-F]{1,8}\/[0-9A-F]{1,8})#(0|[1-9][0-9]{0,9})$/;

/** The opaque cursor: base64url of `c:<last id>` and `,<source>@<lsn>#<seq>` per source position. */
export function encodeCursor(lastId: string, positions: ReadonlyMap<string, SourcePosition> = new Map()): string {
  let text = `c:${lastId}`;
  for (const [sourceId, position] of positions) text += `,${sourceId}@${position.commitLsn}#${position.seq}`;
  return Buffer.from(text, "utf8").toString("base64url");
}

/** The cursor a previous page handed out, or Invalid (400) for anything this API did not hand out. */
export function decodeCursor(cursor: string): Cursor {
  const invalid = () => new Invalid("cursor is not valid; use the nextCursor of a previous page.");
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  if (!text.startsWith("c:")) throw invalid();
  const [id = "", ...entries] = text.slice(2).split(",");
  if (!ID.test(id) || BigInt(id) > MAX_ID) throw invalid();
  const positions = new Map<string, SourcePosition>();
  for (const entry of entries) {
    const match = POSITION.exec(entry);
    const [, sourceId = "", commitLsn = "", seq = ""] = match ?? [];
    if (!match || Number(seq) > MAX_SEQ || positions.has(sourceId)) throw invalid();
    positions.set(sourceId, { commitLsn, seq: Number(seq) });
  }
  return { id, positions };
}

/** A change id from a URL, or null when it cannot be one. */
export function parseChangeId(value: string): string | null {
  if (!ID.test(value) || BigInt(value) > MAX_ID) return null;
  return value;
}
