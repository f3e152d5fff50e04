import { Invalid } from "../http/errors";

const MAX_ID = 9223372036854775807n;

/** The opaque keyset cursor: base64url of the last id on the page (ids are bigint text). */
export function encodeCursor(lastId: string): string {
  return Buffer.from(`c:${lastId}`, "utf8").toString("base64url");
}

/** The id to continue below, or Invalid (400) for anything this API did not hand out. */
export function decodeCursor(cursor: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  const match = /^c:([1-9][0-9]{0,18})$/.exec(text);
  const id = match?.[1];
  if (!id || BigInt(id) > MAX_ID) throw new Invalid("cursor is not valid; use the nextCursor of a previous page.");
  return id;
}

/** A change id from a URL, or null when it cannot be one. */
export function parseChangeId(value: string): string | null {
  if (!/^[1-9][0-9]{0,18}$/.test(value) || BigInt(value) > MAX_ID) return null;
  return value;
}
