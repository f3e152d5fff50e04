"use client";

import { useRef } from "react";
import { classes, smallSecondaryButton } from "@/components/ui/classes";
import { ApiError } from "@/lib/api/client";
import type { DatabaseJson } from "@/lib/sources/api-types";
import { fixOf, useRemoveDatabase, useSetEnabled } from "./api";
import { CopyBlock } from "./copy-block";

const removeAnywayButton = classes(
  "rounded-md border border-red-300 bg-white px-3 py-1.5",
  "text-sm font-medium text-red-700 hover:bg-red-50 disabled:opacity-60",
);
const removeButton = classes(
  "rounded-md bg-red-600 px-3 py-1.5",
  "text-sm font-medium text-white hover:bg-red-700 disabled:opacity-60",
);

/** Pause / Resume and Remove (with confirmation) for one database. */
export function DatabaseActions({
  database,
  onRemoved,
}: {
  database: Pick<DatabaseJson, "id" | "name" | "enabled">;
  onRemoved?: () => void;
}) {
  const setEnabled = useSetEnabled();
  const remove = useRemoveDatabase();
  const dialog = useRef<HTMLDialogElement>(null);

  const removeError = remove.error instanceof ApiError ? remove.error : null;
  const fix = removeError ? fixOf(removeError.details) : null;

  function removeDatabase(force: boolean) {
    remove.mutate(
      { id: database.id, force },
      {
        onSuccess: () => {
          dialog.current?.close();
          onRemoved?.();
        },
      },
    );
  }

  return (
    <div className="flex flex-wrap items-center gap-2 lg:flex-nowrap">
      <button
        type="button"
        className={smallSecondaryButton}
        disabled={setEnabled.isPending}
        onClick={() => setEnabled.mutate({ id: database.id, enabled: !database.enabled })}
      >
        {database.enabled ? "Pause" : "Resume"}
      </button>
      <button
        type="button"
        className={`${smallSecondaryButton} text-red-700 hover:bg-red-50`}
        onClick={() => {
          remove.reset();
          dialog.current?.showModal();
        }}
      >
        Remove
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
        <h2 id={`remove-title-${database.id}`} className="text-lg font-semibold">
          Remove {database.name}?
        </h2>
        <p className="mt-2 text-sm text-slate-600">
          Retrace stops capturing, drops its replication slot and publication at the source, and deletes this
          database&apos;s captured changes from Retrace. Your data at the source is not touched.
        </p>
        {remove.error ? (
          <div role="alert" className="mt-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            <p>{remove.error.message}</p>
            {fix ? <CopyBlock text={fix} /> : null}
          </div>
        ) : null}
        <div className="mt-6 flex flex-wrap justify-end gap-2">
          <button type="button" className={smallSecondaryButton} onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          {removeError && removeError.status === 422 ? (
            <button
              type="button"
              className={removeAnywayButton}
              disabled={remove.isPending}
              onClick={() => removeDatabase(true)}
            >
              Remove anyway
            </button>
          ) : null}
          <button
            type="button"
            autoFocus
            className={removeButton}
            disabled={remove.isPending}
            onClick={() => removeDatabase(false)}
          >
            {remove.isPending ? "Removing…" : "Remove database"}
          </button>
        </div>
      </dialog>
    </div>
  );
}
