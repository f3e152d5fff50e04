import type pg from "pg";
import type { TableRef } from "./input";
import { quoteIdent, quoteTable } from "./sql";

/**
 * Who may do what tracking a table takes. PostgreSQL lets only a table's owner (a member of the
 * owning role, or a superuser) set its REPLICA IDENTITY, and adding it to a publication takes
 * owning BOTH the table and the publication. Retrace's own role owns the publication it created,
 * and with the least-privilege role (role-sql.ts) nothing else: for other tables their owner runs
 * the statements (ownerSql), and Retrace sees afterwards that the table is ready. It never asks
 * for its role to join an owner's role that is a superuser or owns more than the tracked tables.
 */

/** A table to track, or one of its partitions / inheritance children (each has its own identity). */
export type RelationAccess = TableRef & {
  owner: string;
  ownerIsSuperuser: boolean;
  /** Retrace's role has the owner's rights (it is the owner, inherits from it, or is a superuser). */
  mayAlter: boolean;
  identityFull: boolean;
  /**
   * Its virtual generated columns (PostgreSQL 18). PostgreSQL refuses UPDATE and DELETE of a published table that
   * has one under REPLICA IDENTITY FULL ("Replica identity must not contain unpublished generated columns"), so
   * tracking it would break the application's writes: Retrace refuses to.
   */
  virtualColumns: string[];
};

export type TableAccess = {
  table: TableRef;
  /** The table itself first, then everything below it. */
  relations: RelationAccess[];
  /** The table is in Retrace's publication. */
  published: boolean;
};

export type OwnerAccess = {
  name: string;
  superuser: boolean;
  /**
   * Not a superuser, cannot create roles or databases, belongs to no other role, and owns
   * nothing but the chosen tables (with their partitions and sequences): the one kind of owner
   * Retrace's role may be let into, if the user would rather not run the owner's SQL.
   */
  ownsOnlyChosen: boolean;
};

export type PublicationAccess = {
  name: string;
  owner: string;
  ownerIsSuperuser: boolean;
  /** Retrace's role has the publication owner's rights. */
  mayAlter: boolean;
};

export type AccessFacts = {
  /** Retrace's role (current_user). */
  role: string;
  tables: TableAccess[];
  owners: OwnerAccess[];
  /** Null until the publication exists (before connecting). */
  publication: PublicationAccess | null;
};

/** Reads ownership, rights, identities and publication membership of `tables` and their trees. */
export async function gatherTableAccess(
  client: pg.Client,
  tables: readonly TableRef[],
  publicationName: string | null,
): Promise<AccessFacts> {
  const role = (await client.query<{ role: string }>("select current_user::text as role")).rows[0]?.role ?? "";
  const publication = publicationName
    ? ((
        await client.query<{ name: string; owner: string; owner_is_superuser: boolean; may_alter: boolean }>(
          `select p.pubname::text as name, r.rolname::text as owner, r.rolsuper as owner_is_superuser,
                  pg_has_role(current_user, p.pubowner, 'USAGE') as may_alter
             from pg_publication p join pg_roles r on r.oid = p.pubowner
            where p.pubname = $1`,
          [publicationName],
        )
      ).rows.map((r) => ({
        name: r.name,
        owner: r.owner,
        ownerIsSuperuser: r.owner_is_superuser,
        mayAlter: r.may_alter,
      }))[0] ?? null)
    : null;
  if (tables.length === 0) return { role, tables: [], owners: [], publication };

  const { rows } = await client.query<{
    ord: string;
    schema: string;
    name: string;
    owner: string;
    owner_is_superuser: boolean;
    may_alter: boolean;
    identity_full: boolean;
    virtual_columns: string[];
    published: boolean;
  }>(
    `with recursive chosen as (
       select t.ord, c.oid
         from unnest($1::text[], $2::text[]) with ordinality as t(schema, name, ord)
         join pg_namespace n on n.nspname = t.schema
         join pg_class c on c.relnamespace = n.oid and c.relname = t.name and c.relkind in ('r', 'p')
     ), tree as (
       select ord, oid, 0 as depth from chosen
       union
       select tree.ord, i.inhrelid, tree.depth + 1 from pg_inherits i join tree on i.inhparent = tree.oid
     )
     select tree.ord::text as ord, n.nspname::text as schema, c.relname::text as name,
            o.rolname::text as owner, o.rolsuper as owner_is_superuser,
            pg_has_role(current_user, c.relowner, 'USAGE') as may_alter,
            c.relreplident = 'f' as identity_full,
            array(select a.attname::text from pg_attribute a
                   where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = 'v'
                   order by a.attnum) as virtual_columns,
            exists (select 1 from pg_publication p join pg_publication_rel pr on pr.prpubid = p.oid
                     where p.pubname = $3 and pr.prrelid = c.oid) as published
       from tree
       join pg_class c on c.oid = tree.oid and c.relkind in ('r', 'p')
       join pg_namespace n on n.oid = c.relnamespace
       join pg_roles o on o.oid = c.relowner
      order by tree.ord, tree.depth, 2, 3`,
    [tables.map((t) => t.schema), tables.map((t) => t.table), publicationName],
  );
  const byTable = new Map<string, TableAccess>();
  for (const row of rows) {
    const relation: RelationAccess = {
      schema: row.schema,
      table: row.name,
      owner: row.owner,
      ownerIsSuperuser: row.owner_is_superuser,
      mayAlter: row.may_alter,
      identityFull: row.identity_full,
      virtualColumns: row.virtual_columns,
    };
    const entry = byTable.get(row.ord);
    if (entry) entry.relations.push(relation);
    else
      byTable.set(row.ord, {
        table: { schema: row.schema, table: row.name },
        relations: [relation],
        published: row.published,
      });
  }
  const access = [...byTable.values()];
  return { role, tables: access, owners: await ownerAccess(client, access), publication };
}

/** The owners Retrace's role cannot act for, and whether each owns nothing but the chosen tables. */
async function ownerAccess(client: pg.Client, tables: readonly TableAccess[]): Promise<OwnerAccess[]> {
  const relations = tables.flatMap((t) => t.relations);
  const owners = [...new Set(relations.filter((r) => !r.mayAlter).map((r) => r.owner))].sort();
  if (owners.length === 0) return [];
  const { rows } = await client.query<{ name: string; superuser: boolean; owns_only_chosen: boolean }>(
    `with chosen as (
       select c.oid from unnest($2::text[], $3::text[]) as t(schema, name)
         join pg_namespace n on n.nspname = t.schema
         join pg_class c on c.relnamespace = n.oid and c.relname = t.name
     )
     select r.rolname::text as name, r.rolsuper as superuser,
            not r.rolsuper and not r.rolcreaterole and not r.rolcreatedb
            and not exists (select 1 from pg_auth_members m where m.member = r.oid)
            and not exists (
              select 1 from pg_shdepend d
               where d.refclassid = 'pg_authid'::regclass and d.refobjid = r.oid and d.deptype = 'o'
                 and not (d.dbid = (select oid from pg_database where datname = current_database())
                          and d.classid = 'pg_class'::regclass
                          and (d.objid in (select oid from chosen)
                               -- a serial or identity column's sequence belongs to its table
                               or exists (select 1 from pg_depend x
                                           where x.classid = 'pg_class'::regclass and x.objid = d.objid
                                             and x.refclassid = 'pg_class'::regclass and x.deptype in ('a', 'i')
                                             and x.refobjid in (select oid from chosen))))) as owns_only_chosen
       from pg_roles r
      where r.rolname = any($1::text[])
      order by 1`,
    [owners, relations.map((r) => r.schema), relations.map((r) => r.table)],
  );
  return rows.map((r) => ({ name: r.name, superuser: r.superuser, ownsOnlyChosen: r.owns_only_chosen }));
}

/** Where a chosen table stands. */
export type TableSetup =
  /** In Retrace's publication with REPLICA IDENTITY FULL throughout: nothing left to do. */
  | "ready"
  /** What is missing Retrace's role may do itself (when the tables are saved). */
  | "automatic"
  /** Its owner must run SQL first (ownerSql). */
  | "owner";

type OwnerStep = { owner: string; ownerIsSuperuser: boolean; identity: TableRef[]; publish: TableRef[] };

function mayPublish(facts: AccessFacts, table: TableAccess): boolean {
  const root = table.relations[0];
  // Before connecting, Retrace's role creates the publication and so will own it.
  return Boolean(root?.mayAlter) && (facts.publication?.mayAlter ?? true);
}

export function tableSetup(facts: AccessFacts, table: TableAccess): TableSetup {
  const missingIdentity = table.relations.filter((r) => !r.identityFull);
  if (table.published && missingIdentity.length === 0) return "ready";
  const publishOk = table.published || mayPublish(facts, table);
  return publishOk && missingIdentity.every((r) => r.mayAlter) ? "automatic" : "owner";
}

/** What owners must run, per owner (sorted), for the tables that need them. */
export function ownerSteps(facts: AccessFacts): OwnerStep[] {
  const steps = new Map<string, OwnerStep>();
  const step = (relation: RelationAccess) => {
    const found = steps.get(relation.owner);
    if (found) return found;
    const created = { owner: relation.owner, ownerIsSuperuser: relation.ownerIsSuperuser, identity: [], publish: [] };
    steps.set(relation.owner, created);
    return created;
  };
  for (const table of facts.tables) {
    if (tableSetup(facts, table) !== "owner") continue;
    for (const relation of table.relations) {
      if (!relation.identityFull && !relation.mayAlter) step(relation).identity.push(relation);
    }
    const root = table.relations[0];
    if (root && !table.published && !mayPublish(facts, table)) step(root).publish.push(table.table);
  }
  return [...steps.values()].sort((a, b) => a.owner.localeCompare(b.owner));
}

const names = (tables: readonly TableRef[]) => tables.map((t) => `${t.schema}.${t.table}`).join(", ");

/** The SQL owners run so Retrace can track their tables, each step saying who runs it. */
export function ownerSql(facts: AccessFacts, publicationName: string): string {
  const publication = quoteIdent(publicationName);
  // The role that owns the publication; an owner joins it for ALTER PUBLICATION, unless it is a
  // superuser (joining it would make the owner one): then a superuser runs the statement.
  const publisher = facts.publication ?? { owner: facts.role, ownerIsSuperuser: false };
  const blocks = ownerSteps(facts).map((step) => {
    const owner = quoteIdent(step.owner);
    const tables = [...step.identity, ...step.publish.filter((t) => !step.identity.some((i) => sameTable(i, t)))];
    const statements = [
      ...step.identity.map((t) => `ALTER TABLE ${quoteTable(t)} REPLICA IDENTITY FULL;`),
      ...step.publish.map((t) => `ALTER PUBLICATION ${publication} ADD TABLE ${quoteTable(t)};`),
    ];
    if (step.ownerIsSuperuser) {
      return [
        `-- Owned by ${owner}, a superuser: ${names(tables)}.`,
        `-- As ${owner} (or another superuser):`,
        ...statements,
      ];
    }
    const owned = `-- Owned by ${owner}: ${names(tables)}.`;
    if (step.publish.length === 0) return [owned, `-- As ${owner}:`, ...statements];
    if (publisher.ownerIsSuperuser) {
      return [`${owned} Retrace's publication is owned by a superuser.`, "-- As a superuser:", ...statements];
    }
    const member = quoteIdent(publisher.owner);
    const lines = [
      owned,
      `-- Adding a table to a publication takes owning both, so ${owner} joins ${member} (the publication's owner)`,
      "-- for these statements and leaves again:",
      `-- 1. As a superuser or the role that created ${member}:`,
      `GRANT ${member} TO ${owner};`,
      `-- 2. As ${owner} (or a superuser, without steps 1 and 3):`,
      ...statements,
      "-- 3. As the role of step 1:",
      `REVOKE ${member} FROM ${owner};`,
    ];
    if (facts.owners.find((o) => o.name === step.owner)?.ownsOnlyChosen) {
      lines.push(
        `-- Or, as ${owner} owns nothing but tables chosen here: GRANT ${owner} TO ${quoteIdent(facts.role)};`,
        "-- lets Retrace do this itself (its role can then also change and drop these tables).",
      );
    }
    return lines;
  });
  return [...blocks.map((lines) => lines.join("\n")), "-- Then save the tables again."].join("\n\n");
}

function sameTable(a: TableRef, b: TableRef): boolean {
  return a.schema === b.schema && a.table === b.table;
}
