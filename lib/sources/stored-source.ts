import type pg from "pg";
import { z } from "zod";
import type { Queryable } from "../db/client";
import { Conflict, NotFound } from "../errors";
import { withSourceClient } from "./connection";
import { rememberIdentity } from "./identity";
import { getSource, getSourceConnection } from "./queries";

/**
 * Reaching a stored source for the service: its id checked, its connection details (a removed
 * source is a conflict, an unknown one not found), and a client that fills in its identity.
 */

const idSchema = z.uuid();

export function sourceId(id: string): string {
  // A malformed id cannot name a source; answering 404 beats a database cast error.
  if (!idSchema.safeParse(id).success) throw new NotFound("Database");
  return id;
}

export async function requireConnection(db: Queryable, secret: string, id: string) {
  const source = await getSourceConnection(db, sourceId(id), secret);
  if (!source) {
    if ((await getSource(db, id))?.removedAt) throw removedConflict();
    throw new NotFound("Database");
  }
  return source;
}

export function removedConflict(): Conflict {
  return new Conflict("This database was removed (its captured changes are kept); Retrace no longer reaches it.");
}

/** Runs `fn` connected to a stored source, filling in its identity if it was stored without one. */
export async function withStoredSource<T>(
  db: Queryable,
  id: string,
  source: Awaited<ReturnType<typeof requireConnection>>,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  return withSourceClient(source.connection, async (client) => {
    if (!source.identified) await rememberIdentity(db, id, client, source.connection);
    return fn(client);
  });
}
