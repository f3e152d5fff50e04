"use client";

import { useState, type FormEvent } from "react";
import { primaryButton, secondaryButton } from "@/components/ui/classes";
import { ApiError } from "@/lib/api/client";
import type { DatabaseJson } from "@/lib/sources/api-types";
import { fieldErrorsOf, fixOf, useUpdateDatabase, type SettingsFields } from "./api";
import { CopyBlock } from "./copy-block";
import { SelectField, TextField } from "./fields";
import { SSL_OPTIONS } from "./ssl-fields";

/**
 * The connection's credentials and settings, edited in place. The password field starts empty and is sent only
 * when something is typed in it; the server tries the new credentials (same database, the checks streaming
 * needs) before it saves them, and the worker reconnects with them.
 */
export function EditConnection({ database, onDone }: { database: DatabaseJson; onDone: () => void }) {
  const update = useUpdateDatabase(database.id);
  const [fields, setFields] = useState<SettingsFields>({
    name: database.name,
    host: database.host,
    port: String(database.port),
    database: database.database,
    username: database.username,
    password: "",
    sslMode: database.sslMode,
  });
  const error = update.error instanceof ApiError ? update.error : null;
  const fieldErrors = error?.status === 400 ? fieldErrorsOf(error.details) : {};
  const fix = error ? fixOf(error.details) : null;
  const set = (key: keyof SettingsFields) => (event: { target: { value: string } }) =>
    setFields((current) => ({ ...current, [key]: event.target.value }));

  function submit(event: FormEvent) {
    event.preventDefault();
    const { password, ...rest } = fields;
    update.mutate(password ? { ...rest, password } : rest, { onSuccess: onDone });
  }

  return (
    <form onSubmit={submit} className="space-y-4 px-4 py-4" aria-label="Edit connection" noValidate>
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField
          id="edit-name"
          label="Display name"
          value={fields.name}
          onChange={set("name")}
          error={fieldErrors.name}
        />
        <TextField
          id="edit-host"
          label="Host"
          value={fields.host}
          onChange={set("host")}
          error={fieldErrors.host}
          autoComplete="off"
        />
        <TextField
          id="edit-port"
          label="Port"
          inputMode="numeric"
          value={fields.port}
          onChange={set("port")}
          error={fieldErrors.port}
        />
        <TextField
          id="edit-database"
          label="Database Name"
          value={fields.database}
          onChange={set("database")}
          error={fieldErrors.database}
          hint="The same database only (Retrace checks what the server says it is)."
        />
        <TextField
          id="edit-username"
          label="Username"
          value={fields.username}
          onChange={set("username")}
          error={fieldErrors.username}
          autoComplete="off"
        />
        <TextField
          id="edit-password"
          label="Password"
          type="password"
          value={fields.password}
          onChange={set("password")}
          error={fieldErrors.password}
          placeholder="Unchanged"
          autoComplete="new-password"
          hint="Leave empty to keep the current password."
        />
        <SelectField
          id="edit-ssl"
          label="SSL mode"
          value={fields.sslMode}
          onChange={set("sslMode")}
          error={fieldErrors.sslMode}
        >
          {SSL_OPTIONS.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </SelectField>
      </div>
      <p className="text-xs text-slate-500">
        New credentials are tried at the source before they are saved; the worker then reconnects with them. The
        environment cannot change: the changes already captured carry it.
      </p>
      {error && error.status !== 400 ? (
        <div role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          <p className="wrap-anywhere">{error.message} Nothing was saved.</p>
          {fix ? <CopyBlock text={fix} /> : null}
        </div>
      ) : null}
      <div className="flex flex-wrap justify-end gap-2">
        <button type="button" className={secondaryButton} onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className={primaryButton} disabled={update.isPending}>
          {update.isPending ? "Checking…" : "Check and save"}
        </button>
      </div>
    </form>
  );
}
