"use client";

import { useState, type FormEvent } from "react";
import { fieldErrorsOf } from "@/components/databases/api";
import { CopyButton } from "@/components/ui/copy-button";
import { classes, inputClass, primaryButton, smallSecondaryButton } from "@/components/ui/classes";
import { ApiError } from "@/lib/api/client";
import type { CreatedTokenResponse } from "@/lib/auth/api-types";
import { useCreateToken, type Role } from "./api";
import { Panel } from "./states";

const label = "block text-sm font-medium text-slate-700";

/** Creates a token and shows its secret once, until dismissed; the list below never has it. */
export function TokenCreator() {
  const create = useCreateToken();
  const [created, setCreated] = useState<CreatedTokenResponse | null>(null);
  const errors = create.error instanceof ApiError ? fieldErrorsOf(create.error.details) : {};
  const formError = create.error && Object.keys(errors).length === 0 ? create.error.message : null;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    setCreated(null);
    create.mutate(
      { name: String(form.get("name") ?? ""), role: String(form.get("role")) as Role },
      {
        onSuccess: (result) => {
          formElement.reset();
          setCreated(result);
        },
      },
    );
  }

  return (
    <Panel title="Create a token">
      <form onSubmit={onSubmit} noValidate className="grid gap-4 sm:grid-cols-[minmax(0,2fr)_minmax(0,1fr)_auto]">
        <div className="space-y-1">
          <label htmlFor="token-name" className={label}>
            Name
          </label>
          <input
            id="token-name"
            name="name"
            required
            maxLength={100}
            placeholder="ci-exports"
            aria-invalid={errors.name ? true : undefined}
            aria-describedby={errors.name ? "token-name-error" : undefined}
            className={inputClass}
          />
          {errors.name ? (
            <p id="token-name-error" className="text-sm text-red-700">
              {errors.name}
            </p>
          ) : null}
        </div>
        <div className="space-y-1">
          <label htmlFor="token-role" className={label}>
            Access
          </label>
          <select id="token-role" name="role" defaultValue="viewer" className={inputClass}>
            <option value="viewer">Read only</option>
            <option value="admin">Admin</option>
          </select>
        </div>
        <div className="flex items-end">
          <button type="submit" disabled={create.isPending} className={classes(primaryButton, "w-full sm:w-auto")}>
            {create.isPending ? "Creating…" : "Create token"}
          </button>
        </div>
      </form>
      {formError ? (
        <p role="alert" className="mt-3 text-sm text-red-700">
          {formError}
        </p>
      ) : null}
      {created ? <NewSecret created={created} onDone={() => setCreated(null)} /> : null}
    </Panel>
  );
}

function NewSecret({ created, onDone }: { created: CreatedTokenResponse; onDone: () => void }) {
  return (
    <div role="status" className="mt-4 rounded-md border border-emerald-200 bg-emerald-50 p-4 text-sm">
      <p className="font-medium text-emerald-900">
        Token “{created.token.name}” created ({created.token.role === "admin" ? "admin" : "read only"}). Copy it now: it
        is shown only this once.
      </p>
      <div className="mt-3 flex flex-col gap-2 sm:flex-row sm:items-center">
        <code
          data-testid="new-token-secret"
          className={classes(
            "min-w-0 flex-1 break-all rounded border border-emerald-200",
            "bg-white px-3 py-2 font-mono text-xs text-slate-900",
          )}
        >
          {created.secret}
        </code>
        <div className="flex gap-2">
          <CopyButton label="Copy token" text={() => created.secret} />
          <button type="button" className={smallSecondaryButton} onClick={onDone}>
            Done
          </button>
        </div>
      </div>
      <p className="mt-2 text-xs text-emerald-900">
        Send it as <code className="font-mono">Authorization: Bearer &lt;token&gt;</code>.
      </p>
    </div>
  );
}
