"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { classes, primaryButton, secondaryButton } from "@/components/ui/classes";
import { ApiError } from "@/lib/api/client";
import { parseConnectionString } from "@/lib/sources/connection-string";
import { fieldErrorsOf, fixOf, useCheckConnection, useConnectDatabase, useRoleSql, type ConnectFields } from "./api";
import { CheckResults } from "./check-results";
import { CopyBlock } from "./copy-block";
import { SelectField, TextField } from "./fields";

const CUSTOM = "__custom";

const SSL_OPTIONS = [
  { value: "prefer", label: "Prefer (SSL when the server offers it)" },
  { value: "require", label: "Require (encrypted, certificate not verified)" },
  { value: "verify-full", label: "Verify full (encrypted, certificate and host verified)" },
  { value: "disable", label: "Disable (no SSL)" },
];

type FormState = {
  host: string;
  port: string;
  database: string;
  username: string;
  password: string;
  environment: string;
  customEnvironment: string;
  sslMode: string;
};

const INITIAL: FormState = {
  host: "",
  port: "5432",
  database: "",
  username: "",
  password: "",
  environment: "production",
  customEnvironment: "",
  sslMode: "prefer",
};

function toRequest(state: FormState): ConnectFields {
  return {
    host: state.host,
    port: state.port,
    database: state.database,
    username: state.username,
    password: state.password,
    sslMode: state.sslMode,
    environment: state.environment === CUSTOM ? state.customEnvironment.trim() : state.environment,
  };
}

export function ConnectForm() {
  const router = useRouter();
  const [state, setState] = useState<FormState>(INITIAL);
  const [connectionString, setConnectionString] = useState("");
  const [filledNote, setFilledNote] = useState<string | null>(null);
  const connect = useConnectDatabase();
  const check = useCheckConnection();

  const set = (key: keyof FormState) => (value: string) => setState((s) => ({ ...s, [key]: value }));

  // Field messages from whichever request failed validation most recently.
  const validation = [connect, check]
    .filter((m) => m.error instanceof ApiError && m.error.status === 400)
    .sort((a, b) => b.submittedAt - a.submittedAt)[0]?.error;
  const fieldErrors = validation instanceof ApiError ? fieldErrorsOf(validation.details) : {};
  const connectError = connect.error;
  const connectFix = connect.error instanceof ApiError ? fixOf(connect.error.details) : null;

  function fillFromConnectionString(text: string) {
    setConnectionString(text);
    const parsed = parseConnectionString(text);
    if (!parsed || Object.keys(parsed).length === 0) {
      setFilledNote(
        text.trim() ? "Not a connection string Retrace understands (postgres://… or host=… dbname=…)." : null,
      );
      return;
    }
    setState((s) => ({ ...s, ...parsed }));
    // The string may hold a password: keep it only in the Password field.
    setConnectionString("");
    setFilledNote("Filled the fields from the connection string.");
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    connect.mutate(toRequest(state), {
      onSuccess: ({ database }) => router.push(`/databases/${database.id}/tables`),
    });
  }

  const environmentError = fieldErrors.environment;
  const rolePreview = useRoleSql(state.database.trim());
  const sqlForRole = check.data?.roleSql ?? rolePreview.data?.roleSql;

  return (
    // One column on a phone, two from lg up; minmax(0, 1fr) so the role SQL and the long SSL option labels
    // scroll or shrink inside their column instead of widening the page.
    <div className="grid grid-cols-1 gap-6 lg:grid-cols-2 lg:gap-8">
      <form
        onSubmit={onSubmit}
        noValidate
        className="min-w-0 space-y-5 rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-6"
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
            placeholder="postgres://user:password@host:5432/database?sslmode=require"
            aria-describedby="connection-string-note"
            className={classes(
              "block w-full rounded-md border border-slate-300 bg-white",
              "px-3 py-2 font-mono text-xs shadow-sm focus:border-indigo-500",
            )}
            spellCheck={false}
            autoComplete="off"
          />
          <p id="connection-string-note" role="status" className="text-xs text-slate-500">
            {filledNote ?? "Optional: paste one to fill the fields below."}
          </p>
        </div>

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
        {/* The SSL modes' labels are long: their select gets two thirds of the row. */}
        <div className="grid grid-cols-1 gap-4 sm:grid-cols-[minmax(0,1fr)_minmax(0,2fr)]">
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
            id="ssl-mode"
            label="SSL mode"
            value={state.sslMode}
            onChange={(e) => set("sslMode")(e.target.value)}
            error={fieldErrors.sslMode}
          >
            {SSL_OPTIONS.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </SelectField>
        </div>

        {connectError ? (
          <div role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            <p>{connectError.message}</p>
            {connectFix ? <CopyBlock text={connectFix} /> : null}
          </div>
        ) : null}

        <div className="flex flex-wrap items-center gap-3">
          <button type="submit" disabled={connect.isPending} className={primaryButton}>
            {connect.isPending ? "Adding…" : "Add Database"}
          </button>
          <button
            type="button"
            disabled={check.isPending}
            onClick={() => check.mutate(toRequest(state))}
            className={secondaryButton}
          >
            {check.isPending ? "Checking…" : "Check connection"}
          </button>
        </div>
        <p className="text-xs text-slate-500">
          Adding creates a publication and a logical replication slot named retrace_… at the source. You choose the
          tables next.
        </p>
      </form>

      <aside className="min-w-0 space-y-6" aria-label="Connection checks and setup help">
        <section className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-6">
          <h2 className="text-base font-semibold">Checks</h2>
          <div className="mt-3">
            {check.data ? (
              <CheckResults checks={check.data.checks} />
            ) : check.error && !(check.error instanceof ApiError && check.error.status === 400) ? (
              <p role="alert" className="text-sm text-red-700">
                {check.error.message}
              </p>
            ) : (
              <p className="text-sm text-slate-500">
                Check connection verifies the server version, wal_level, the REPLICATION privilege, free replication
                slots and WAL senders, and the right to create a publication, and shows the exact fix for anything
                missing.
              </p>
            )}
          </div>
        </section>
        <section className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-6">
          <h2 className="text-base font-semibold">A dedicated role for Retrace</h2>
          <p className="mt-1 text-sm text-slate-500">
            Run this as a superuser at the source to give Retrace its own least-privilege login, then use it above.
          </p>
          {sqlForRole ? <CopyBlock text={sqlForRole} /> : null}
        </section>
      </aside>
    </div>
  );
}
