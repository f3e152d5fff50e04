"use client";

import { useQuery } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { fromLocalInput } from "@/components/time-travel/at-picker";
import { classes, inputClass, primaryButton } from "@/components/ui/classes";
import { MAX_HOLD_REASON } from "@/lib/holds/input";
import { databaseQueries } from "@/lib/query/databases";
import { useCreateHold } from "./api";

const label = "block text-sm font-medium text-slate-700";

/** Places a hold (admins): a database, a span of commit times in local time, and why. */
export function HoldForm() {
  const id = useId();
  const databases = useQuery(databaseQueries.list());
  const create = useCreateHold();
  const [database, setDatabase] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [placed, setPlaced] = useState<string | null>(null);
  const choices = databases.data?.databases ?? [];

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setPlaced(null);
    const fromIso = fromLocalInput(from);
    const toIso = fromLocalInput(to);
    if (!database) return setProblem("Choose the database to hold.");
    if (!fromIso || !toIso) return setProblem("Give both times: from and to.");
    if (fromIso >= toIso) return setProblem("“To” must be after “From”.");
    if (!reason.trim()) return setProblem("Say why the changes are held.");
    setProblem(null);
    create.mutate(
      { database, from: fromIso, to: toIso, reason: reason.trim() },
      {
        onSuccess: ({ hold }) => {
          setPlaced(`Hold placed on ${hold.database.name}.`);
          setReason("");
        },
      },
    );
  }

  const error = problem ?? (create.error ? `Not placed: ${create.error.message}` : null);
  return (
    <form onSubmit={onSubmit} noValidate aria-label="Place a hold" className="space-y-3">
      <div className="grid gap-3 sm:grid-cols-3">
        <div>
          <label htmlFor={`${id}-database`} className={label}>
            Database
          </label>
          <select
            id={`${id}-database`}
            value={database}
            onChange={(event) => setDatabase(event.target.value)}
            className={classes(inputClass, "mt-1")}
            disabled={databases.isPending}
          >
            <option value="">{databases.isPending ? "Loading…" : "Choose a database"}</option>
            {choices.map((choice) => (
              <option key={choice.id} value={choice.id}>
                {choice.name} ({choice.environment}){choice.removedAt ? " · removed" : ""}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-from`} className={label}>
            From <span className="font-normal text-slate-500">(local time)</span>
          </label>
          <input
            id={`${id}-from`}
            type="datetime-local"
            step={1}
            value={from}
            onChange={(event) => setFrom(event.target.value)}
            className={classes(inputClass, "mt-1")}
          />
        </div>
        <div>
          <label htmlFor={`${id}-to`} className={label}>
            To <span className="font-normal text-slate-500">(not included)</span>
          </label>
          <input
            id={`${id}-to`}
            type="datetime-local"
            step={1}
            value={to}
            onChange={(event) => setTo(event.target.value)}
            className={classes(inputClass, "mt-1")}
          />
        </div>
      </div>
      <div>
        <label htmlFor={`${id}-reason`} className={label}>
          Reason
        </label>
        <input
          id={`${id}-reason`}
          value={reason}
          maxLength={MAX_HOLD_REASON}
          placeholder="Legal hold: case 2026-114"
          onChange={(event) => setReason(event.target.value)}
          className={classes(inputClass, "mt-1")}
        />
      </div>
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" className={classes(primaryButton, "w-full sm:w-auto")} disabled={create.isPending}>
          {create.isPending ? "Placing…" : "Place hold"}
        </button>
        {error ? (
          <p role="alert" className="text-sm text-red-700">
            {error}
          </p>
        ) : null}
        {placed && !error ? (
          <p role="status" className="text-sm text-emerald-700">
            {placed}
          </p>
        ) : null}
      </div>
    </form>
  );
}
