"use client";

import { useId, useRef, useState } from "react";
import { classes, inputClass, smallSecondaryButton } from "@/components/ui/classes";
import { ApiError } from "@/lib/api/client";
import type { DatabaseJson, RemoveDatabaseResponse } from "@/lib/sources/api-types";
import { fixOf, useRemoveDatabase, useSetEnabled } from "./api";
import { CopyBlock } from "./copy-block";

const removeAnywayButton = classes(
  "rounded-md border border-red-300 bg-white px-3 py-1.5",
  "text-sm font-medium text-red-700 hover:bg-red-50 disabled:opacity-60",
);
const removeButton = classes(
  "rounded-md bg-red-600 px-3 py-1.5",
  "text-sm font-medium text-white hover:bg-red-700 disabled:cursor-not-allowed disabled:opacity-50",
);

type ActionsDatabase = Pick<DatabaseJson, "id" | "name" | "enabled" | "removedAt">;

/**
 * Pause / Resume and Remove for one database; Remove is confirmed by typing the database's name, and asks whether
 * the captured changes are kept (searchable under its name) or deleted. A removed database only offers to delete
 * the changes it kept.
 */
export function DatabaseActions({
  database,
  onRemoved,
}: {
  database: ActionsDatabase;
  onRemoved?: (result: RemoveDatabaseResponse) => void;
}) {
  const setEnabled = useSetEnabled();
  const dialog = useRef<HTMLDialogElement>(null);
  const [opened, setOpened] = useState(0);
  const removed = database.removedAt !== null;

  return (
    <div className="flex flex-wrap items-center gap-2 lg:flex-nowrap">
      {removed ? null : (
        <button
          type="button"
          className={smallSecondaryButton}
          disabled={setEnabled.isPending}
          onClick={() => setEnabled.mutate({ id: database.id, enabled: !database.enabled })}
        >
          {database.enabled ? "Pause" : "Resume"}
        </button>
      )}
      <button
        type="button"
        className={`${smallSecondaryButton} text-red-700 hover:bg-red-50`}
        onClick={() => {
          setOpened((n) => n + 1);
          dialog.current?.showModal();
        }}
      >
        {removed ? "Delete changes" : "Remove"}
      </button>
      {setEnabled.error ? (
        <span role="alert" className="text-sm text-red-700">
          {setEnabled.error.message}
        </span>
      ) : null}

      <dialog
        ref={dialog}
        aria-labelledby={`remove-title-${database.id}`}
        className={classes(
          "m-auto w-[calc(100%-2rem)] max-w-lg rounded-lg border border-slate-200 p-4 shadow-xl sm:p-6",
          "backdrop:bg-slate-900/40",
        )}
      >
        {/* Remounted at every opening: the typed name and the choice start afresh. */}
        <RemoveForm
          key={opened}
          database={database}
          close={() => dialog.current?.close()}
          onRemoved={(result) => {
            dialog.current?.close();
            onRemoved?.(result);
          }}
        />
      </dialog>
    </div>
  );
}

function RemoveForm({
  database,
  close,
  onRemoved,
}: {
  database: ActionsDatabase;
  close: () => void;
  onRemoved: (result: RemoveDatabaseResponse) => void;
}) {
  const remove = useRemoveDatabase();
  const removed = database.removedAt !== null;
  const [changes, setChanges] = useState<"keep" | "delete">(removed ? "delete" : "keep");
  const [typed, setTyped] = useState("");
  const confirmId = useId();
  const removeError = remove.error instanceof ApiError ? remove.error : null;
  const fix = removeError ? fixOf(removeError.details) : null;
  const confirmed = typed.trim() === database.name.trim();

  function submit(force: boolean) {
    if (!confirmed) return;
    remove.mutate({ id: database.id, force, changes }, { onSuccess: onRemoved });
  }

  return (
    <form
      method="dialog"
      onSubmit={(event) => {
        event.preventDefault();
        submit(false);
      }}
    >
      <h2 id={`remove-title-${database.id}`} className="text-lg font-semibold wrap-anywhere">
        {removed ? `Delete the captured changes of ${database.name}?` : `Remove ${database.name}?`}
      </h2>
      {removed ? (
        <p className="mt-2 text-sm text-slate-600">
          This database was removed and its captured changes kept. Deleting them cannot be undone.
        </p>
      ) : (
        <>
          <p className="mt-2 text-sm text-slate-600">
            Retrace stops capturing, drops its replication slot and publication at the source, and puts back the replica
            identity of the tables it changed. Your data at the source is not touched.
          </p>
          <fieldset className="mt-4 space-y-2">
            <legend className="text-sm font-medium text-slate-700">Captured changes</legend>
            <label className="flex items-start gap-2 text-sm">
              <input
                type="radio"
                name="changes"
                value="keep"
                className="mt-1"
                checked={changes === "keep"}
                onChange={() => setChanges("keep")}
              />
              <span>
                Keep them
                <span className="block text-xs text-slate-500">
                  Still listed and searchable under {database.name}; the database shows as removed.
                </span>
              </span>
            </label>
            <label className="flex items-start gap-2 text-sm">
              <input
                type="radio"
                name="changes"
                value="delete"
                className="mt-1"
                checked={changes === "delete"}
                onChange={() => setChanges("delete")}
              />
              <span>
                Delete them
                <span className="block text-xs text-slate-500">Cannot be undone.</span>
              </span>
            </label>
          </fieldset>
        </>
      )}
      <div className="mt-4 space-y-1">
        <label htmlFor={confirmId} className="block text-sm text-slate-700">
          Type <span className="font-mono font-medium wrap-anywhere">{database.name}</span> to confirm
        </label>
        <input
          id={confirmId}
          autoFocus
          autoComplete="off"
          spellCheck={false}
          value={typed}
          onChange={(event) => setTyped(event.target.value)}
          className={inputClass}
        />
      </div>
      {remove.error ? (
        <div role="alert" className="mt-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          <p>{remove.error.message}</p>
          {fix ? <CopyBlock text={fix} /> : null}
        </div>
      ) : null}
      <div className="mt-6 flex flex-wrap justify-end gap-2">
        <button type="button" className={smallSecondaryButton} onClick={close}>
          Cancel
        </button>
        {removeError && removeError.status === 422 ? (
          <button
            type="button"
            className={removeAnywayButton}
            disabled={remove.isPending || !confirmed}
            onClick={() => submit(true)}
          >
            Remove anyway
          </button>
        ) : null}
        <button type="submit" className={removeButton} disabled={remove.isPending || !confirmed}>
          {remove.isPending
            ? "Removing…"
            : removed
              ? "Delete changes"
              : changes === "keep"
                ? "Remove, keep changes"
                : "Remove and delete changes"}
        </button>
      </div>
    </form>
  );
}
