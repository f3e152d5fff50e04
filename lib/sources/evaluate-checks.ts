/**
 * Judges a source's facts (source-facts.ts) as checks, pure: server version, wal_level, replication privilege,
 * free slots and WAL senders, publication rights, the chosen tables, and Retrace's slot and publication names.
 */
import { check, LABELS, type Check } from "./check-result";
import { hostFix, resolveHostKind, type HostKind } from "./host-kind";
import type { TableRef } from "./input";
import { publicationCheck } from "./publication-check";
import type { SourceFacts } from "./source-facts";
import { quoteIdent, quoteLiteral } from "./sql";

/** The kind of host the facts show, unless the user chose one. */
export function hostKindOf(facts: SourceFacts, host: string, chosen?: HostKind | null): HostKind {
  // The rds_replication role is there on every RDS / Aurora server, whatever the settings show.
  return resolveHostKind(chosen ?? (facts.isRds ? "rds" : null), host, facts.serverMarks);
}

/**
 * Judges the facts. Ordered: the first failing check is the one to fix first. `kind`: the host the fixes are
 * written for. `read`: tables the read-only role path wants to read (checked for SELECT with `requested`).
 */
export function evaluateChecks(
  facts: SourceFacts,
  requested: readonly TableRef[] = [],
  kind: HostKind = facts.isRds ? "rds" : "self-managed",
  read: readonly TableRef[] = [],
): Check[] {
  const user = quoteIdent(facts.currentUser);
  const fixFor = (id: Parameters<typeof hostFix>[1]) =>
    hostFix(kind, id, {
      role: user,
      host: "",
      port: 0,
      maxReplicationSlots: facts.maxReplicationSlots,
      maxWalSenders: facts.maxWalSenders,
    });
  const checks: Check[] = [];

  // pgoutput protocol 2 with logical messages (application context) needs PostgreSQL 14.
  const versionOk = facts.versionNum >= 140000;
  checks.push(
    check(
      "version",
      versionOk,
      versionOk
        ? `PostgreSQL ${facts.version}`
        : `PostgreSQL ${facts.version} is too old: ` +
            "Retrace streams with pgoutput protocol 2 and logical messages, which need PostgreSQL 14 or later.",
      "Upgrade the server to PostgreSQL 14 or later.",
    ),
  );
  // Older servers lack the catalog columns the other checks read.
  if (!versionOk) return checks;

  const walOk = facts.walLevel === "logical";
  checks.push(
    check(
      "wal_level",
      walOk,
      walOk ? "wal_level is logical" : `wal_level is "${facts.walLevel}"; logical replication needs "logical".`,
      fixFor("wal_level"),
    ),
  );

  const replicationOk = facts.isSuperuser || facts.hasReplication || facts.isRdsReplicationMember;
  checks.push(
    check(
      "replication",
      replicationOk,
      replicationOk
        ? `${facts.currentUser} may use replication` +
            (facts.isSuperuser ? " (superuser)" : facts.hasReplication ? " (REPLICATION)" : " (rds_replication)")
        : `User ${facts.currentUser} lacks the REPLICATION privilege needed to create and read a replication slot.`,
      fixFor("replication"),
    ),
  );

  const freeSlots = facts.maxReplicationSlots - facts.usedReplicationSlots;
  checks.push(
    check(
      "replication_slots",
      freeSlots >= 1,
      freeSlots >= 1
        ? `${freeSlots} of ${facts.maxReplicationSlots} replication slots free`
        : `All ${facts.maxReplicationSlots} replication slots are in use ` +
            `(max_replication_slots = ${facts.maxReplicationSlots}).`,
      fixFor("replication_slots"),
    ),
  );

  const freeSenders = facts.maxWalSenders - facts.usedWalSenders;
  checks.push(
    check(
      "wal_senders",
      freeSenders >= 1,
      freeSenders >= 1
        ? `${freeSenders} of ${facts.maxWalSenders} WAL senders free`
        : `All ${facts.maxWalSenders} WAL senders are busy (max_wal_senders = ${facts.maxWalSenders}).`,
      fixFor("wal_senders"),
    ),
  );

  checks.push(publicationCheck(facts));

  if (requested.length > 0) {
    const ok = facts.missingTables.length === 0;
    checks.push(
      check(
        "tables",
        ok,
        ok
          ? `${requested.length} table${requested.length === 1 ? "" : "s"} found`
          : `Not found in ${facts.database}: ${facts.missingTables.join(", ")}.`,
        "Check the schema and table names (they are case-sensitive).",
      ),
    );
  }
  checks.push(namesCheck(facts));
  const readable = new Set([...requested, ...read].map((t) => `${t.schema}.${t.table}`));
  const found = [...readable].filter((name) => !facts.missingTables.includes(name)).length;
  if (found > 0) {
    const unreadable = facts.unreadableTables;
    checks.push(
      check(
        "select",
        unreadable.length === 0,
        unreadable.length === 0
          ? `${facts.currentUser} may read ${found === 1 ? "the chosen table" : `the ${found} chosen tables`}`
          : `${facts.currentUser} may not SELECT from ${unreadable.join(", ")}: Retrace reads a table to take ` +
              "its baseline and to check a revert before running it.",
        "Run as each table's owner (or a superuser; a GRANT by anyone else grants nothing):\n" +
          unreadable.map((name) => `GRANT SELECT ON ${quoteQualified(name)} TO ${user};`).join("\n"),
      ),
    );
  }
  return checks;
}

/**
 * Retrace names its slot and publication retrace_<its id>, so its own are always free; what this reports is
 * what another Retrace (or a removal that could not clean up) left here. It never blocks connecting, but an
 * inactive slot holds WAL on the server until it is dropped.
 */
export function namesCheck(facts: SourceFacts): Check {
  const ours = facts.ours ?? new Map<string, string>();
  const oursNote = [...new Set([...facts.foreignNames.slots.map((s) => s.name), ...facts.foreignNames.publications])]
    .filter((name) => ours.has(name))
    .map((name) => `${name} is ${JSON.stringify(ours.get(name))}'s, connected in this Retrace.`)
    .join(" ");
  const slots = facts.foreignNames.slots.filter((s) => !ours.has(s.name));
  const publications = facts.foreignNames.publications.filter((p) => !ours.has(p));
  if (slots.length === 0 && publications.length === 0) {
    return check(
      "names",
      true,
      oursNote
        ? `Retrace's names (retrace_<id>) are free. ${oursNote}`
        : "No other Retrace slot or publication here: Retrace's names (retrace_<id>) are free.",
    );
  }
  const inactive = slots.filter((s) => !s.active);
  const listed = [
    ...slots.map((s) => `${s.name} (slot, ${s.active ? "streaming" : "inactive"})`),
    ...publications.map((p) => `${p} (publication)`),
  ].join(", ");
  const message =
    `Retrace's new names are free, but ${listed} ${slots.length + publications.length === 1 ? "is" : "are"} here ` +
    "already: another Retrace's, or left by a database removed without its cleanup." +
    (inactive.length > 0 ? " An inactive slot keeps WAL on the server's disk until it is dropped." : "") +
    (oursNote ? ` ${oursNote}` : "");
  const fix =
    inactive.length > 0 || publications.length > 0
      ? "If no Retrace uses them (see Databases in every Retrace connected to this server), drop them:\n" +
        [
          ...inactive.map((s) => `SELECT pg_drop_replication_slot(${quoteLiteral(s.name)});`),
          ...publications.map((p) => `DROP PUBLICATION ${quoteIdent(p)};`),
        ].join("\n")
      : undefined;
  return fix ? { id: "names", label: LABELS.names, ok: true, message, fix } : check("names", true, message);
}

/** "schema.table" (split at the first dot, as the API names tables) quoted for SQL. */
function quoteQualified(name: string): string {
  const dot = name.indexOf(".");
  return `${quoteIdent(name.slice(0, dot))}.${quoteIdent(name.slice(dot + 1))}`;
}
