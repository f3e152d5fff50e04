import { sql } from "drizzle-orm";
import { recordAudit, type AuditActor } from "../audit/record";
import type { Db, Queryable } from "../db/client";
import { NotFound } from "../errors";
import { PARTITION_DDL_LOCK } from "../retention/partitions";
import { findDatabase, isUuid } from "../sources/lookup";
import type { Hold } from "./api-types";
import { MAX_HOLD_REASON, type HoldInput } from "./input";

/**
 * Holds on a database's trail: while one is active the expirer (lib/retention/expire.ts) keeps every partition of
 * its database whose span overlaps it. Placed and released by admins (POST and DELETE /api/holds), audited as
 * hold.create and hold.release in the same transaction; `retrace archive import` places its own (lib/archive).
 */

type HoldRow = {
  id: string;
  source_id: string;
  name: string;
  environment: string;
  removed: boolean;
  from_at: Date;
  to_at: Date;
  reason: string;
  created_by: string;
  created_at: Date;
  released_at: Date | null;
  released_by: string | null;
};

const HOLD_COLUMNS = sql`
  h.id, h.source_id, s.name, s.environment, s.removed_at is not null as removed, h.from_at, h.to_at, h.reason,
  h.created_by, h.created_at, h.released_at, h.released_by`;

function asHold(row: HoldRow): Hold {
  const at = (value: Date | string) => new Date(value);
  return {
    id: row.id,
    database: { id: row.source_id, name: row.name, environment: row.environment, removed: row.removed },
    from: at(row.from_at),
    to: at(row.to_at),
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: at(row.created_at),
    releasedAt: row.released_at === null ? null : at(row.released_at),
    releasedBy: row.released_by,
  };
}

/** How a hold names who placed or released it: as the audit log names the actor, a token as `token <name>`. */
export function actorLabel(actor: AuditActor): string {
  switch (actor.kind) {
    case "user":
      return actor.email;
    case "token":
      return `token ${actor.name}`;
    case "cli":
      return `${actor.osUser ?? "unknown OS user"} (command line)`;
    case "anonymous":
      return actor.emailTried;
  }
}

/** The active holds (and the released ones too with `released`), active first, then by database and span. */
export async function listHolds(db: Queryable, options: { released?: boolean } = {}): Promise<Hold[]> {
  const found = await db.execute<HoldRow>(sql`
    select ${HOLD_COLUMNS} from trail_holds h join sources s on s.id = h.source_id
     where ${options.released ? sql`true` : sql`h.released_at is null`}
     order by h.released_at is not null, h.released_at desc, s.name, h.from_at, h.created_at`);
  return found.rows.map(asHold);
}

/**
 * Places a hold, audited as hold.create in its transaction. It waits for an expiry in flight (the partitions' lock),
 * so once it is answered nothing it covers is dropped.
 */
export async function createHold(db: Db, actor: AuditActor, input: HoldInput): Promise<Hold> {
  return db.transaction(async (tx) => {
    const database = await findDatabase(tx, input.database);
    await tx.execute(sql.raw(PARTITION_DDL_LOCK));
    const inserted = await tx.execute<{ id: string }>(sql`
      insert into trail_holds (source_id, from_at, to_at, reason, created_by)
      values (${database.id}, ${input.from.toISOString()}, ${input.to.toISOString()}, ${input.reason},
              ${actorLabel(actor)})
      returning id`);
    const id = inserted.rows[0]?.id;
    if (!id) throw new Error("hold insert returned nothing");
    await recordAudit(
      tx,
      actor,
      "hold.create",
      { type: "database", id: database.id, label: database.name },
      { hold: id, from: input.from.toISOString(), to: input.to.toISOString(), reason: input.reason },
    );
    const hold = await readHold(tx, id);
    if (!hold) throw new Error("hold vanished in its own transaction");
    return hold;
  });
}

async function readHold(db: Queryable, id: string): Promise<Hold | null> {
  const found = await db.execute<HoldRow>(sql`
    select ${HOLD_COLUMNS} from trail_holds h join sources s on s.id = h.source_id where h.id = ${id}::uuid`);
  const row = found.rows[0];
  return row ? asHold(row) : null;
}

/**
 * Releases a hold: the next expiry round may drop what it kept. Idempotent: a released hold stays as it was and
 * nothing is recorded; `released` says whether this call released it. 404 for no such hold.
 */
export async function releaseHold(db: Db, actor: AuditActor, id: string): Promise<{ hold: Hold; released: boolean }> {
  if (!isUuid(id)) throw new NotFound("Hold");
  return db.transaction(async (tx) => {
    const updated = await tx.execute<{ id: string }>(sql`
      update trail_holds set released_at = now(), released_by = ${actorLabel(actor)}
       where id = ${id}::uuid and released_at is null
      returning id`);
    const hold = await readHold(tx, id);
    if (!hold) throw new NotFound("Hold");
    const released = updated.rows.length > 0;
    if (released) {
      await recordAudit(
        tx,
        actor,
        "hold.release",
        { type: "database", id: hold.database.id, label: hold.database.name },
        { hold: hold.id, from: hold.from.toISOString(), to: hold.to.toISOString(), reason: hold.reason },
      );
    }
    return { hold, released };
  });
}

/**
 * Holds what an archive import brought back (lib/archive/import.ts, in its transaction), so the next expiry round
 * does not drop it again: a hold over the archive's database and range, "imported from <manifest>", unless an
 * active hold of exactly that span is there already (an import run twice). Audited as hold.create when placed by
 * a known `actor`.
 */
export async function holdImported(
  tx: Queryable,
  actor: AuditActor | undefined,
  archive: { source: { id: string; name: string }; range: { from: string; to: string }; manifest: string },
): Promise<{ id: string; placed: boolean }> {
  // Two imports of one archive at once place one hold between them.
  await tx.execute(sql`lock table trail_holds in share row exclusive mode`);
  const { source, range } = archive;
  const found = await tx.execute<{ id: string }>(sql`
    select id from trail_holds
     where source_id = ${source.id}::uuid and from_at = ${range.from}::timestamptz and to_at = ${range.to}::timestamptz
       and released_at is null
     order by created_at limit 1`);
  const existing = found.rows[0];
  if (existing) return { id: existing.id, placed: false };
  const prefix = "imported from ";
  const room = MAX_HOLD_REASON - prefix.length;
  const where = archive.manifest.length > room ? `…${archive.manifest.slice(-(room - 1))}` : archive.manifest;
  const reason = prefix + where;
  const inserted = await tx.execute<{ id: string }>(sql`
    insert into trail_holds (source_id, from_at, to_at, reason, created_by)
    values (${source.id}::uuid, ${range.from}::timestamptz, ${range.to}::timestamptz, ${reason},
            ${actor ? actorLabel(actor) : "archive import"})
    returning id`);
  const id = inserted.rows[0]?.id;
  if (!id) throw new Error("hold insert returned nothing");
  if (!actor) return { id, placed: true };
  await recordAudit(
    tx,
    actor,
    "hold.create",
    { type: "database", id: source.id, label: source.name },
    { hold: id, from: range.from, to: range.to, reason },
  );
  return { id, placed: true };
}
