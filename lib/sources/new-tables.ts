import type pg from "pg";
import type { ReplicationNames } from "./provision";
import { quoteIdent, quoteLiteral } from "./sql";

/**
 * "Track new tables automatically": an event trigger at the source that, at the end of every
 * CREATE TABLE (and CREATE TABLE AS / SELECT INTO), sets REPLICA IDENTITY FULL on the new table
 * and adds it to Retrace's publication, in the creating transaction, so its changes are captured
 * from its first row with whole before images. A new partition of a tracked table gets REPLICA
 * IDENTITY FULL too (its changes arrive through the root's publication already).
 *
 * Why not a publication FOR TABLES IN SCHEMA (PostgreSQL 15+): creating one takes a superuser as
 * much as an event trigger does, it cannot leave out one table of a schema (untracking a table
 * would be impossible), and it sets no replica identity, so a new table without a primary key
 * would refuse every UPDATE and DELETE of the application. The trigger has none of these faults.
 *
 * Creating an event trigger takes a superuser (on RDS / Cloud SQL / Azure their admin role may,
 * depending on the version). Where Retrace's role may not, the UI shows `newTablesSql` for a
 * superuser to run, and reports once it exists. The function is SECURITY DEFINER: the owner of
 * a new table is rarely the publication's owner, and ALTER PUBLICATION takes both. Failing, it
 * only warns: tracking must never break the application's CREATE TABLE.
 */

export type NewTablesState = {
  /** The user asked for it (sources.track_new_tables). */
  enabled: boolean;
  /** The event trigger exists and is enabled at the source. */
  active: boolean;
  /** What a superuser runs at the source when Retrace's role may not create it; null when not needed. */
  sql: string | null;
  /** Off, but the trigger is still there (Retrace's role may not drop one a superuser made): what drops it. */
  dropSql: string | null;
};

function triggerName(names: ReplicationNames): string {
  return `${names.publicationName}_new_tables`;
}

function functionName(names: ReplicationNames): string {
  return `public.${quoteIdent(`${names.publicationName}_new_tables`)}`;
}

/** The statements that install the trigger (idempotent: CREATE OR REPLACE, trigger dropped first). */
export function newTablesSql(names: ReplicationNames): string {
  const publication = quoteLiteral(names.publicationName);
  const fn = functionName(names);
  const trigger = quoteIdent(triggerName(names));
  return `CREATE OR REPLACE FUNCTION ${fn}() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $retrace$
DECLARE
  created record;
  publication_oid oid := (SELECT oid FROM pg_publication WHERE pubname = ${publication});
BEGIN
  IF publication_oid IS NULL THEN RETURN; END IF;
  FOR created IN
    SELECT c.oid, c.relispartition
      FROM pg_event_trigger_ddl_commands() d
      JOIN pg_class c ON c.oid = d.objid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE d.classid = 'pg_class'::regclass AND c.relkind IN ('r', 'p') AND c.relpersistence = 'p'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  LOOP
    BEGIN
      IF created.relispartition THEN
        -- Published through its root already; it only needs whole before images.
        IF EXISTS (SELECT 1 FROM pg_publication_rel
                    WHERE prpubid = publication_oid AND prrelid = pg_partition_root(created.oid)) THEN
          EXECUTE format('ALTER TABLE %s REPLICA IDENTITY FULL', created.oid::regclass);
        END IF;
      ELSE
        EXECUTE format('ALTER TABLE %s REPLICA IDENTITY FULL', created.oid::regclass);
        IF NOT EXISTS (SELECT 1 FROM pg_publication_rel WHERE prpubid = publication_oid AND prrelid = created.oid) THEN
          EXECUTE format('ALTER PUBLICATION %I ADD TABLE %s', ${publication}, created.oid::regclass);
        END IF;
      END IF;
    EXCEPTION WHEN OTHERS THEN
      RAISE WARNING 'Retrace could not track the new table %: %', created.oid::regclass, SQLERRM;
    END;
  END LOOP;
END
$retrace$;
DROP EVENT TRIGGER IF EXISTS ${trigger};
CREATE EVENT TRIGGER ${trigger} ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO')
  EXECUTE PROCEDURE ${fn}();`;
}

/** What turns it off (also run when the source is removed). */
export function dropNewTablesSql(names: ReplicationNames): string {
  return `DROP EVENT TRIGGER IF EXISTS ${quoteIdent(triggerName(names))};
DROP FUNCTION IF EXISTS ${functionName(names)}();`;
}

/** Whether the trigger exists and fires (not disabled). */
export async function newTablesTriggerActive(client: pg.ClientBase, names: ReplicationNames): Promise<boolean> {
  const { rows } = await client.query<{ active: boolean }>(
    "select exists (select 1 from pg_event_trigger where evtname = $1 and evtenabled <> 'D') as active",
    [triggerName(names)],
  );
  return rows[0]?.active ?? false;
}

/**
 * Installs the trigger. False when Retrace's role may not (not a superuser): the caller shows
 * `newTablesSql` instead. Other failures throw.
 */
export async function installNewTablesTrigger(client: pg.ClientBase, names: ReplicationNames): Promise<boolean> {
  await client.query("begin");
  try {
    await client.query(newTablesSql(names));
    await client.query("commit");
    return true;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    // "permission denied to create event trigger": not a superuser.
    if ((error as { code?: string }).code === "42501") return false;
    throw error;
  }
}

/** Removes the trigger and its function; false when Retrace's role may not (someone else's). */
export async function removeNewTablesTrigger(client: pg.ClientBase, names: ReplicationNames): Promise<boolean> {
  try {
    await client.query(dropNewTablesSql(names));
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "42501") return false;
    throw error;
  }
}

/** The state the UI shows, read at the source. */
export async function newTablesState(
  client: pg.ClientBase,
  names: ReplicationNames,
  enabled: boolean,
): Promise<NewTablesState> {
  const active = await newTablesTriggerActive(client, names);
  return {
    enabled,
    active,
    sql: enabled && !active ? newTablesSql(names) : null,
    dropSql: !enabled && active ? dropNewTablesSql(names) : null,
  };
}
