"use client";

import { useSession } from "next-auth/react";
import { useState, type FormEvent } from "react";
import { RelativeTime, useNow } from "@/components/changes/time";
import { classes, inputClass, smallSecondaryButton } from "@/components/ui/classes";
import { CellLabel, stacked } from "@/components/ui/stacked-table";
import type { UserJson } from "@/lib/auth/api-types";
import { useUpdateUser, useUsers, type Role } from "./api";
import { EmptyState, ListError, ListLoading } from "./states";

const dangerButton = classes(
  "rounded-md border border-red-300 bg-white px-3 py-1.5",
  "text-sm font-medium text-red-700 hover:bg-red-50 disabled:opacity-60",
);

export function UserList() {
  const query = useUsers();
  const now = useNow();
  const { data: session } = useSession();
  if (query.isPending) return <ListLoading label="Loading users…" />;
  if (!query.data) return <ListError what="users" message={query.error?.message} retry={() => void query.refetch()} />;
  const { users } = query.data;
  if (users.length === 0) return <EmptyState title="No users yet" />;
  return (
    <div className="overflow-hidden rounded-lg border border-slate-200 bg-white">
      <div role="table" aria-label="Users" className={stacked.md.table}>
        <div role="rowgroup" className={classes(stacked.md.head, "md:border-b md:border-slate-200")}>
          <div role="row" className="md:table-row">
            {["Email", "Role", "Status", "Added", "Actions"].map((name) => (
              <div key={name} role="columnheader" className="md:table-cell md:px-4 md:py-2">
                {name}
              </div>
            ))}
          </div>
        </div>
        <div role="rowgroup" className={stacked.md.body}>
          {users.map((user) => (
            <UserRow key={user.id} user={user} isYou={session?.user?.id === user.id} now={now} />
          ))}
        </div>
      </div>
    </div>
  );
}

type Editing = "none" | "password" | "deactivate";

function UserRow({ user, isYou, now }: { user: UserJson; isYou: boolean; now: number }) {
  const update = useUpdateUser();
  const [editing, setEditing] = useState<Editing>("none");
  const [message, setMessage] = useState<string | null>(null);
  const cell = classes(stacked.md.cell.narrow, "grid-cols-[4.5rem_minmax(0,1fr)] md:py-2 md:align-middle");

  function change(input: { role?: Role; active?: boolean; password?: string }, done: string) {
    setMessage(null);
    update.mutate(
      { id: user.id, ...input },
      {
        onSuccess: ({ sessionsEnded }) => {
          setEditing("none");
          setMessage(
            sessionsEnded > 0 ? `${done} ${sessionsEnded} session${sessionsEnded === 1 ? "" : "s"} ended.` : done,
          );
        },
      },
    );
  }

  function onPassword(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const password = String(new FormData(event.currentTarget).get("password") ?? "");
    change({ password }, "Password reset.");
  }

  return (
    <div role="row" className={classes(stacked.md.row, user.active ? "" : "bg-slate-50")}>
      <div role="cell" className={cell}>
        <CellLabel>Email</CellLabel>
        <span className="min-w-0 break-all font-medium text-slate-900">
          {user.email}
          {isYou ? <span className="ml-2 text-xs font-normal text-slate-500">(you)</span> : null}
        </span>
      </div>
      <div role="cell" className={cell}>
        <CellLabel>Role</CellLabel>
        <select
          aria-label={`Role of ${user.email}`}
          value={user.role}
          disabled={update.isPending}
          onChange={(event) => change({ role: event.target.value as Role }, `Role changed to ${event.target.value}.`)}
          className={classes(inputClass, "w-auto py-1")}
        >
          <option value="viewer">viewer</option>
          <option value="admin">admin</option>
        </select>
      </div>
      <div role="cell" className={cell}>
        <CellLabel>Status</CellLabel>
        <span className={user.active ? "text-emerald-700" : "text-slate-500"}>
          {user.active ? "Active" : "Deactivated"}
        </span>
      </div>
      <div role="cell" className={cell}>
        <CellLabel>Added</CellLabel>
        <span className="text-slate-600">
          <RelativeTime iso={user.createdAt} now={now} />
        </span>
      </div>
      <div role="cell" className={classes(cell, "md:w-[22rem]")}>
        <CellLabel>Actions</CellLabel>
        <div className="space-y-2">
          {editing === "none" ? (
            <div className="flex flex-wrap gap-2">
              <button type="button" className={smallSecondaryButton} onClick={() => setEditing("password")}>
                Reset password
              </button>
              {user.active ? (
                <button type="button" className={dangerButton} onClick={() => setEditing("deactivate")}>
                  Deactivate
                </button>
              ) : (
                <button
                  type="button"
                  className={smallSecondaryButton}
                  disabled={update.isPending}
                  onClick={() => change({ active: true }, "Reactivated.")}
                >
                  Reactivate
                </button>
              )}
            </div>
          ) : null}
          {editing === "password" ? (
            <form onSubmit={onPassword} className="flex flex-wrap items-center gap-2">
              <label htmlFor={`password-${user.id}`} className="sr-only">
                New password for {user.email}
              </label>
              <input
                id={`password-${user.id}`}
                name="password"
                type="password"
                autoComplete="new-password"
                placeholder="New password"
                minLength={8}
                required
                autoFocus
                className={classes(inputClass, "w-44 py-1")}
              />
              <button type="submit" disabled={update.isPending} className={smallSecondaryButton}>
                Set password
              </button>
              <button
                type="button"
                className="text-sm text-slate-500 hover:underline"
                onClick={() => setEditing("none")}
              >
                Cancel
              </button>
            </form>
          ) : null}
          {editing === "deactivate" ? (
            <div className="flex flex-wrap items-center gap-2">
              <span className="text-sm text-slate-700">Sign {isYou ? "yourself" : "them"} out and block sign-in?</span>
              <button
                type="button"
                className={dangerButton}
                disabled={update.isPending}
                onClick={() => change({ active: false }, "Deactivated.")}
              >
                Deactivate {user.email}
              </button>
              <button
                type="button"
                className="text-sm text-slate-500 hover:underline"
                onClick={() => setEditing("none")}
              >
                Cancel
              </button>
            </div>
          ) : null}
          {update.error ? (
            <p role="alert" className="text-sm text-red-700">
              {update.error.message}
            </p>
          ) : null}
          {message ? (
            <p role="status" className="text-sm text-emerald-700">
              {message}
            </p>
          ) : null}
        </div>
      </div>
    </div>
  );
}
