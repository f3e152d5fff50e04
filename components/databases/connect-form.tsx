"use client";

/** The Add Database page: the connection form, the set-up path, and the checks that say what to fix. */
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { classes, primaryButton, secondaryButton } from "@/components/ui/classes";
import { ApiError } from "@/lib/api/client";
import type { CheckJson } from "@/lib/sources/api-types";
import { parseConnectionString } from "@/lib/sources/connection-string";
import { HOST_KIND_LABELS, HOST_KINDS, hostKindFromName } from "@/lib/sources/host-kind";
import { checksOf, fieldErrorsOf, fixOf, useCheckConnection, useConnectDatabase, useRoleSql } from "./api";
import { CheckResults } from "./check-results";
import { CUSTOM, DETECT, INITIAL, splitTables, toRequest, type FormState, type SetupPath } from "./connect-form-state";
import { SelectField, TextField } from "./fields";
import { FixText } from "./fix-text";
import { RoleSetup, SetupPathChooser } from "./setup-path";
import { SslFields } from "./ssl-fields";

export function ConnectForm() {
  const router = useRouter();
  const [state, setState] = useState<FormState>(INITIAL);
  const [connectionString, setConnectionString] = useState("");
  const [filledNote, setFilledNote] = useState<string | null>(null);
  const [path, setPath] = useState<SetupPath>("automatic");
  const [readTables, setReadTables] = useState("");
  const connect = useConnectDatabase();
  const check = useCheckConnection();

  const set = (key: keyof FormState) => (value: string) => setState((s) => ({ ...s, [key]: value }));

  // Field messages from whichever request failed validation most recently.
  const validation = [connect, check]
    .filter((m) => m.error instanceof ApiError && m.error.status === 400)
    .sort((a, b) => b.submittedAt - a.submittedAt)[0]?.error;
  const fieldErrors = validation instanceof ApiError ? fieldErrorsOf(validation.details) : {};
  const connectError = connect.error;
  const connectDetails = connectError instanceof ApiError ? connectError.details : undefined;
  const connectChecks = checksOf(connectDetails);
  const connectFix = connectChecks ? null : fixOf(connectDetails);

  // The checks on screen: from Check connection / Verify, or from a refused Add Database, whichever came last.
  const shown: { checks: CheckJson[]; hostKind?: string } | null =
    connectChecks && connect.submittedAt >= check.submittedAt
      ? { checks: connectChecks }
      : check.data
        ? { checks: check.data.checks, hostKind: check.data.hostKind.label }
        : null;

  function fillFromConnectionString(text: string) {
    setConnectionString(text);
    const parsed = parseConnectionString(text);
    if (!parsed || Object.keys(parsed).length === 0) {
      setFilledNote(
        text.trim() ? "Not a connection string Retrace understands (postgres://… or host=… dbname=…)." : null,
      );
      return;
    }
    const { sslRootCertFile, ...fields } = parsed;
    setState((s) => ({ ...s, ...fields }));
    // The string may hold a password: keep it only in the Password field.
    setConnectionString("");
    setFilledNote(
      "Filled the fields from the connection string." +
        (sslRootCertFile
          ? ` It names a CA certificate file (${sslRootCertFile}): choose that file or paste its contents below.`
          : ""),
    );
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    connect.mutate(toRequest(state), {
      onSuccess: ({ database }) => router.push(`/databases/${database.id}/tables`),
    });
  }

  function runCheck() {
    check.mutate({ ...toRequest(state), readTables: path === "role" ? splitTables(readTables) : [] });
  }

  const environmentError = fieldErrors.environment;
  const detectedFromName = hostKindFromName(state.host);
  const roleKind = state.hostKind || detectedFromName || "";
  const rolePreview = useRoleSql(state.database.trim(), roleKind, splitTables(readTables).join(","));
  // A check knows the source's schemas and table owners: its SQL is the more exact one.
  const sqlForRole = (path === "role" && check.data?.roleSql) || rolePreview.data?.roleSql;

  const checksPanel = (
    <div className="mt-3">
      {shown ? (
        <>
          {shown.hostKind ? <p className="mb-2 text-xs text-slate-500">Fixes for: {shown.hostKind}</p> : null}
          <CheckResults checks={shown.checks} />
        </>
      ) : check.error && !(check.error instanceof ApiError && check.error.status === 400) ? (
        <p role="alert" className="text-sm text-red-700">
          {check.error.message}
        </p>
      ) : (
        <p className="text-sm text-slate-500">
          {path === "role" ? "Verify" : "Check connection"} tries the connection (network, TLS, password, database) and
          then the server version, wal_level, the replication privilege, free replication slots and WAL senders and the
          right to create a publication, and shows the exact fix for your host for anything missing.
        </p>
      )}
    </div>
  );

  return (
    // One column on a phone, two from lg up; minmax(0, 1fr) so the role SQL and the long SSL option labels
    // scroll or shrink inside their column instead of widening the page.
    <div className="grid grid-cols-1 gap-6 lg:grid-cols-2 lg:gap-8">
      <form
        onSubmit={onSubmit}
        noValidate
        className="min-w-0 space-y-5 self-start rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-6"
      >
        <div className="space-y-1">
          <label htmlFor="connection-string" className="block text-sm font-medium text-slate-700">
            Connection string
          </label>
          <textarea
            id="connection-string"
            rows={2}
            value={connectionString}
            onChange={(e) => fillFromConnectionString(e.target.value)}
            placeholder="postgres://user:password@host:5432/database?sslmode=verify-full"
            aria-describedby="connection-string-note"
            className={classes(
              "block w-full rounded-md border border-slate-300 bg-white",
              "px-3 py-2 font-mono text-xs shadow-sm focus:border-indigo-500",
            )}
            spellCheck={false}
            autoComplete="off"
          />
          <p id="connection-string-note" role="status" className="text-xs text-slate-500">
            {filledNote ?? "Optional: paste one (postgres://… or host=… dbname=…) to fill the fields below."}
          </p>
        </div>

        <TextField
          id="name"
          label="Display name"
          value={state.name}
          onChange={(e) => set("name")(e.target.value)}
          error={fieldErrors.name}
          hint="Optional: how Retrace lists it (default: the database name)."
          autoComplete="off"
          placeholder={state.database || "Shop (production)"}
        />

        <div className="grid grid-cols-1 gap-4 sm:grid-cols-[minmax(0,3fr)_minmax(0,1fr)]">
          <TextField
            id="host"
            label="Host"
            value={state.host}
            onChange={(e) => set("host")(e.target.value)}
            error={fieldErrors.host}
            required
            autoComplete="off"
            placeholder="db.example.com"
          />
          <TextField
            id="port"
            label="Port"
            value={state.port}
            onChange={(e) => set("port")(e.target.value)}
            error={fieldErrors.port}
            required
            inputMode="numeric"
          />
        </div>
        <TextField
          id="database"
          label="Database Name"
          value={state.database}
          onChange={(e) => set("database")(e.target.value)}
          error={fieldErrors.database}
          required
          autoComplete="off"
        />
        <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
          <TextField
            id="username"
            label="Username"
            value={state.username}
            onChange={(e) => set("username")(e.target.value)}
            error={fieldErrors.username}
            required
            autoComplete="off"
          />
          <TextField
            id="password"
            label="Password"
            type="password"
            value={state.password}
            onChange={(e) => set("password")(e.target.value)}
            error={fieldErrors.password}
            autoComplete="new-password"
          />
        </div>
        <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
          <div className="space-y-2">
            <SelectField
              id="environment"
              label="Environment"
              value={state.environment}
              onChange={(e) => set("environment")(e.target.value)}
              error={state.environment === CUSTOM ? undefined : environmentError}
            >
              <option value="production">Production</option>
              <option value="staging">Staging</option>
              <option value="test">Test</option>
              <option value={CUSTOM}>Other…</option>
            </SelectField>
            {state.environment === CUSTOM ? (
              <TextField
                id="custom-environment"
                label="Custom environment"
                value={state.customEnvironment}
                onChange={(e) => set("customEnvironment")(e.target.value)}
                error={environmentError}
                hint="Lowercase letters, digits, - or _ (e.g. qa-eu)"
                required
              />
            ) : null}
          </div>
          <SelectField
            id="host-kind"
            label="Provider"
            value={state.hostKind}
            onChange={(e) => set("hostKind")(e.target.value)}
            error={fieldErrors.hostKind}
            hint={
              state.hostKind
                ? "The fixes the checks show are written for this host."
                : detectedFromName
                  ? `Detected from the host name: ${HOST_KIND_LABELS[detectedFromName]}.`
                  : "Detected from the server when checked; choose one to be sure."
            }
          >
            <option value={DETECT}>Detect automatically</option>
            {HOST_KINDS.map((kind) => (
              <option key={kind} value={kind}>
                {HOST_KIND_LABELS[kind]}
              </option>
            ))}
          </SelectField>
        </div>

        <SslFields sslMode={state.sslMode} sslRootCert={state.sslRootCert} set={set} fieldErrors={fieldErrors} />

        {connectError ? (
          <div role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            <p>{connectError.message}</p>
            {connectChecks ? (
              <p className="mt-1">Every check that failed is listed under Checks, each with its fix.</p>
            ) : null}
            {connectFix ? <FixText text={connectFix} /> : null}
          </div>
        ) : null}

        <div className="flex flex-wrap items-center gap-3">
          <button type="submit" disabled={connect.isPending} className={primaryButton}>
            {connect.isPending ? "Adding…" : "Add Database"}
          </button>
          <button type="button" disabled={check.isPending} onClick={runCheck} className={secondaryButton}>
            {check.isPending ? "Checking…" : path === "role" ? "Verify" : "Check connection"}
          </button>
        </div>
        <p className="text-xs text-slate-500">
          Adding creates a publication and a logical replication slot named retrace_… at the source. You choose the
          tables next.
        </p>
      </form>

      <aside className="min-w-0 space-y-6" aria-label="Set-up and connection checks">
        <SetupPathChooser path={path} setPath={setPath} />

        {path === "role" ? (
          <RoleSetup
            readTables={readTables}
            setReadTables={setReadTables}
            sqlForRole={sqlForRole}
            checking={check.isPending}
            onVerify={runCheck}
          />
        ) : null}

        <section
          aria-labelledby="checks-heading"
          className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-6"
        >
          <h2 id="checks-heading" className="text-base font-semibold">
            Checks
          </h2>
          {checksPanel}
        </section>
      </aside>
    </div>
  );
}
