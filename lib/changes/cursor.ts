import { Invalid } from "../errors";

const MAX_ID = 9223372036854775807n;
const MAX_SEQ = 2147483647;

/**
 * A keyset cursor: the list continues below `id`. The same few characters whatever the filters and however many
 * sources a list merges: where each source continues is found from the change summary (lib/changes/segments.ts),
 * not carried along.
 */
export type Cursor = { id: string };

const ID = /^[1-9][0-9]{0,18}$/;
// Cursors handed out before they were reduced to an id carried each source's (commit_lsn, seq); still accepted.
const LEGACY_POSITION =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@([0-9A-F]{1,8}\/[0-9A-F]{1,8})#(0|[1-9][0-9]{0,9})$/;

/** The opaque cursor: base64url of `c:<last id>`. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(`c:${lastId}`, "utf8").toString("base64url");
}

export function invalidCursor(): Invalid {
  const message = "this cursor is not valid; use the nextCursor of a previous page";
  return new Invalid(`cursor: ${message}`, [{ path: "cursor", message }]);
}

/** The cursor a previous page handed out, or Invalid (400) for anything this API did not hand out. */
export function decodeCursor(cursor: string): Cursor {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  if (!text.startsWith("c:")) throw invalidCursor();
  const [id = "", ...entries] = text.slice(2).split(",");
  if (!ID.test(id) || BigInt(id) > MAX_ID) throw invalidCursor();
  const sources = new Set<string>();
  for (const entry of entries) {
    const match = LEGACY_POSITION.exec(entry);
    const [, sourceId = "", , seq = ""] = match ?? [];
    if (!match || Number(seq) > MAX_SEQ || sources.has(sourceId)) throw invalidCursor();
    sources.add(sourceId);
  }
  return { id };
}

/** A change id from a URL, or null when it cannot be one. */
export function parseChangeId(value: string): string | null {
  if (!ID.test(value) || BigInt(value) > MAX_ID) return null;
  return value;
}
