import { Invalid, TooLarge } from "../errors";
import { nulInParameter, nulPath } from "./params";

/** The most an /api route reads of a body. A connect request with 10,000 table names fits well within. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** The most read before anyone is signed in (sign-in, setup): an email and a password. */
export const MAX_PUBLIC_BODY_BYTES = 16 * 1024;

/** The message of a body that is not JSON. */
export const NOT_JSON = "The request body must be JSON.";

function tooLarge(limit: number): TooLarge {
  return new TooLarge(`The request body must be at most ${Math.round(limit / 1024)} KiB.`);
}

/**
 * The body's text, read a chunk at a time and given up (the stream cancelled, 413) as soon as it passes `limit`
 * bytes, so a multi-megabyte body is never held whole. A Content-Length over the limit is refused before reading.
 */
export async function readBodyText(request: Request, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > limit) {
    await request.body?.cancel().catch(() => undefined);
    throw tooLarge(limit);
  }
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return new TextDecoder("utf-8", { fatal: false }).decode(Buffer.concat(chunks));
}

/** The request's JSON body, at most `limit` bytes; a missing body is `{}`, a malformed one a 400, a huge one 413. */
export async function readJsonBody(request: Request, limit = MAX_BODY_BYTES): Promise<unknown> {
  const text = await readBodyText(request, limit);
  if (text.trim() === "") return {};
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    throw new Invalid(NOT_JSON, [{ path: "body", message: "is not valid JSON" }]);
  }
  refuseNul(body);
  return body;
}

/** 400 naming the field for a string (or key) with a NUL character: PostgreSQL text and jsonb cannot hold one. */
export function refuseNul(body: unknown): void {
  const path = nulPath(body);
  if (path !== null) throw nulInParameter(path);
}
