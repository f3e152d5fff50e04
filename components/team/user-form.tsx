"use client";

import { useState, type FormEvent } from "react";
import { fieldErrorsOf } from "@/components/databases/api";
import { classes, inputClass, primaryButton } from "@/components/ui/classes";
import { ApiError } from "@/lib/api/client";
import { useCreateUser, type Role } from "./api";

const label = "block text-sm font-medium text-slate-700";

/** Adds a user with an initial password, which they are told by whoever creates them. */
export function UserForm() {
  const create = useCreateUser();
  const [done, setDone] = useState<string | null>(null);
  const errors = create.error instanceof ApiError ? fieldErrorsOf(create.error.details) : {};
  const formError = create.error && Object.keys(errors).length === 0 ? create.error.message : null;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const email = String(form.get("email") ?? "");
    setDone(null);
    create.mutate(
      { email, password: String(form.get("password") ?? ""), role: String(form.get("role")) as Role },
      {
        onSuccess: ({ user }) => {
          formElement.reset();
          setDone(`${user.email} can now sign in as ${user.role}.`);
        },
      },
    );
  }

  return (
    <form onSubmit={onSubmit} noValidate className="grid gap-4 sm:grid-cols-[minmax(0,2fr)_minmax(0,1fr)]">
      <div className="space-y-1">
        <label htmlFor="new-user-email" className={label}>
          Email
        </label>
        <input
          id="new-user-email"
          name="email"
          type="email"
          autoComplete="off"
          required
          aria-invalid={errors.email ? true : undefined}
          aria-describedby={errors.email ? "new-user-email-error" : undefined}
          className={inputClass}
        />
        {errors.email ? (
          <p id="new-user-email-error" className="text-sm text-red-700">
            {errors.email}
          </p>
        ) : null}
      </div>
      <div className="space-y-1">
        <label htmlFor="new-user-role" className={label}>
          Role
        </label>
        <select id="new-user-role" name="role" defaultValue="viewer" className={inputClass}>
          <option value="viewer">Viewer (read only)</option>
          <option value="admin">Admin</option>
        </select>
      </div>
      <div className="space-y-1 sm:col-span-2">
        <label htmlFor="new-user-password" className={label}>
          Initial password
        </label>
        <input
          id="new-user-password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          aria-invalid={errors.password ? true : undefined}
          aria-describedby="new-user-password-help"
          className={inputClass}
        />
        <p id="new-user-password-help" className={errors.password ? "text-sm text-red-700" : "text-xs text-slate-500"}>
          {errors.password ?? "At least 8 characters. Tell it to them; an admin can reset it later."}
        </p>
      </div>
      <div className="flex flex-wrap items-center gap-3 sm:col-span-2">
        <button type="submit" disabled={create.isPending} className={classes(primaryButton, "w-full sm:w-auto")}>
          {create.isPending ? "Adding…" : "Add user"}
        </button>
        {formError ? (
          <p role="alert" className="text-sm text-red-700">
            {formError}
          </p>
        ) : null}
        {done ? (
          <p role="status" className="text-sm text-emerald-700">
            {done}
          </p>
        ) : null}
      </div>
    </form>
  );
}
