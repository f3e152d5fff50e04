/**
 * The connect form's two set-up paths: Automatic (Retrace sets the source up with an admin user) or a
 * read-only role the user creates with the SQL shown here, then verifies.
 */
import { classes, secondaryButton } from "@/components/ui/classes";
import type { SetupPath } from "./connect-form-state";
import { CopyBlock } from "./copy-block";
import { TextField } from "./fields";

export function SetupPathChooser({ path, setPath }: { path: SetupPath; setPath: (path: SetupPath) => void }) {
  return (
    <fieldset className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-6">
      <legend className="px-1 text-base font-semibold">Set-up</legend>
      <div className="space-y-3">
        <label className="flex gap-3 text-sm">
          <input
            type="radio"
            name="setup-path"
            value="automatic"
            checked={path === "automatic"}
            onChange={() => setPath("automatic")}
            className="mt-1"
          />
          <span>
            <span className="font-medium">Automatic</span>
            <span className="block text-slate-500">
              Connect with a user that may replicate and create a publication (a superuser, or your provider&apos;s
              admin user). Retrace creates its publication and replication slot and sets REPLICA IDENTITY FULL on the
              tables you choose.
            </span>
          </span>
        </label>
        <label className="flex gap-3 text-sm">
          <input
            type="radio"
            name="setup-path"
            value="role"
            checked={path === "role"}
            onChange={() => setPath("role")}
            className="mt-1"
          />
          <span>
            <span className="font-medium">Read-only role</span>
            <span className="block text-slate-500">
              You run the SQL below to give Retrace its own login that reads and replicates and changes no data, then
              connect with it. Verify says what is still missing.
            </span>
          </span>
        </label>
      </div>
    </fieldset>
  );
}

/** The read-only role path: which tables it may read, the SQL that creates it, and Verify. */
export function RoleSetup({
  readTables,
  setReadTables,
  sqlForRole,
  checking,
  onVerify,
}: {
  readTables: string;
  setReadTables: (text: string) => void;
  sqlForRole: string | undefined;
  checking: boolean;
  onVerify: () => void;
}) {
  return (
    <section
      aria-labelledby="role-heading"
      className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-6"
    >
      <h2 id="role-heading" className="text-base font-semibold">
        A read-only role for Retrace
      </h2>
      <ol className="mt-2 list-decimal space-y-1 pl-5 text-sm text-slate-600">
        <li>Optionally list the tables it may read; otherwise it reads every table.</li>
        <li>Run the SQL at the source (replace the password), as the first line says.</li>
        <li>
          Enter <code>retrace</code> and its password on the left, then Verify.
        </li>
      </ol>
      <div className="mt-3">
        <TextField
          id="read-tables"
          label="Tables to read"
          value={readTables}
          onChange={(e) => setReadTables(e.target.value)}
          placeholder="public.orders, public.customers"
          hint="schema.table, separated by commas; empty: every table, now and later."
          autoComplete="off"
        />
      </div>
      {sqlForRole ? <CopyBlock text={sqlForRole} /> : null}
      <button type="button" disabled={checking} onClick={onVerify} className={classes(secondaryButton, "mt-3")}>
        {checking ? "Verifying…" : "Verify"}
      </button>
    </section>
  );
}
