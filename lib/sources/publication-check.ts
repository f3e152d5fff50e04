/**
 * The publication check: whether Retrace's role may create its publication, and whether it can make the chosen
 * tables ready to track (published with REPLICA IDENTITY FULL) or their owners must run SQL for it.
 */
import { check, type Check } from "./check-result";
import type { SourceFacts } from "./source-facts";
import { quoteIdent } from "./sql";
import { ownerSql, tableSetup, type AccessFacts, type TableAccess } from "./table-access";

export function publicationCheck(facts: SourceFacts): Check {
  const user = quoteIdent(facts.currentUser);
  if (facts.isSuperuser) return check("publication", true, `${facts.currentUser} is a superuser`);
  if (!facts.canCreateInDatabase && !facts.access.publication) {
    return check(
      "publication",
      false,
      `User ${facts.currentUser} cannot create publications in database ${facts.database} ` +
        "(it needs CREATE on the database).",
      `GRANT CREATE ON DATABASE ${quoteIdent(facts.database)} TO ${user};`,
    );
  }
  if (facts.access.tables.length > 0) return tablesAccessCheck(facts.access);
  const foreign = facts.foreignOwners.reduce((n, o) => n + o.tables, 0);
  return check(
    "publication",
    true,
    foreign === 0
      ? `${facts.currentUser} can create a publication and owns every table`
      : `${facts.currentUser} can create a publication; ${foreign} table${foreign === 1 ? " is" : "s are"} owned by ` +
          `other roles (${facts.foreignOwners.map((o) => o.owner).join(", ")}): when you choose them, ` +
          "Retrace gives the SQL their owner runs to publish them.",
  );
}

const tableNames = (tables: readonly TableAccess[]) => tables.map((t) => `${t.table.schema}.${t.table.table}`);

/**
 * Whether Retrace's role can track the chosen tables: each is ready (published with REPLICA
 * IDENTITY FULL, by Retrace or by its owner), or what is missing Retrace's role may do itself.
 * Otherwise the fix is the SQL for the owners, once the publication exists.
 */
export function tablesAccessCheck(access: AccessFacts): Check {
  const virtual = access.tables.flatMap((t) =>
    t.relations
      .filter((r) => r.virtualColumns.length > 0)
      .map((r) => `${r.schema}.${r.table} (${r.virtualColumns.join(", ")})`),
  );
  if (virtual.length > 0) {
    return check(
      "publication",
      false,
      `Retrace cannot track ${virtual.join(", ")}: a table with virtual generated columns cannot be published ` +
        "with REPLICA IDENTITY FULL (PostgreSQL 18 would refuse its UPDATEs and DELETEs), and its changes " +
        "would come without them. Nothing was changed.",
      "Leave the table untracked, or make its generated columns STORED (they are then published and recorded): " +
        "drop the column and add it again as GENERATED ALWAYS AS (…) STORED.",
    );
  }
  const needOwner = access.tables.filter((t) => tableSetup(access, t) === "owner");
  if (needOwner.length > 0) {
    const owned = needOwner.map((t) => {
      const root = t.relations[0];
      const owner = root ? ` (owner ${root.owner}${root.ownerIsSuperuser ? ", a superuser" : ""})` : "";
      return `${t.table.schema}.${t.table.table}${owner}`;
    });
    const message =
      `${access.role} cannot make ${owned.join(", ")} ready to track: only a table's owner may set its ` +
      "REPLICA IDENTITY, and adding a table to a publication takes owning both the table and the publication. ";
    return access.publication
      ? check(
          "publication",
          false,
          `${message}Have the owners run the SQL below, then save the tables again; nothing was changed.`,
          ownerSql(access, access.publication.name),
        )
      : check(
          "publication",
          false,
          `${message}Connect without them first, then choose them under Tables: ` +
            "Retrace then gives the SQL their owners run to add them to its publication.",
        );
  }
  const ready = tableNames(access.tables.filter((t) => tableSetup(access, t) === "ready"));
  const rest = access.tables.length - ready.length;
  return check(
    "publication",
    true,
    [
      ready.length > 0 ? `${ready.join(", ")}: ready (in the publication, REPLICA IDENTITY FULL).` : "",
      rest > 0 ? `${access.role} can publish ${rest === 1 ? "the chosen table" : `the ${rest} chosen tables`}.` : "",
    ]
      .filter(Boolean)
      .join(" "),
  );
}
