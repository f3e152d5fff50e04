/** What a change says of its database: both names, the one the user gave the source in Retrace and the server's. */
type Names = { database: string; sourceName: string | null };

/** The user's name for the database; its name on the server is the title (rows, headers: no room for both). */
export function DatabaseName({ names, className }: { names: Names; className?: string }) {
  const shown = names.sourceName ?? names.database;
  return (
    <span className={className} title={shown === names.database ? undefined : `Database ${names.database}`}>
      {shown}
    </span>
  );
}

/** The user's name for the database, then its name on the server as quieter text when the two differ. */
export function DatabaseNames({ names }: { names: Names }) {
  const shown = names.sourceName ?? names.database;
  return (
    <>
      <span>{shown}</span>
      {shown === names.database ? null : (
        <>
          {" "}
          <span className="font-mono text-slate-500" title="Its name on the server">
            {names.database}
          </span>
        </>
      )}
    </>
  );
}
