"use client";

import { useMutation } from "@tanstack/react-query";
import { signIn } from "next-auth/react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { apiFetch, ApiError } from "@/lib/api/client";
import { AuthCard, Field, FormError, SubmitButton } from "./fields";

type SetupInput = { email: string; password: string; confirmPassword: string; setupCode: string };

/** First run: create the admin, sign in as them, continue to connecting a database. */
export function SetupForm() {
  const router = useRouter();
  const [localError, setLocalError] = useState<string | null>(null);

  const setup = useMutation({
    mutationFn: async (input: SetupInput) => {
      await apiFetch("/api/setup", { method: "POST", body: JSON.stringify(input) });
      const signedIn = await signIn("credentials", { email: input.email, password: input.password, redirect: false });
      return Boolean(signedIn?.ok && !signedIn.error);
    },
    onSuccess: (signedIn) => {
      router.replace(signedIn ? "/databases/new" : "/login");
      router.refresh();
    },
  });

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const input = {
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
      confirmPassword: String(form.get("confirmPassword") ?? ""),
      setupCode: String(form.get("setupCode") ?? ""),
    };
    if (input.password !== input.confirmPassword) {
      setLocalError("Passwords do not match.");
      return;
    }
    setLocalError(null);
    setup.mutate(input);
  }

  const apiError = setup.error;
  const alreadyDone = apiError instanceof ApiError && apiError.status === 409;
  const message = localError ?? (apiError ? apiError.message : null);
  // Between success and navigation the button stays busy so nobody submits twice.
  const pending = setup.isPending || setup.isSuccess;

  return (
    <AuthCard
      title="Create the first admin"
      subtitle="Welcome to Retrace. This account can connect databases and invite others."
    >
      <form onSubmit={onSubmit} className="space-y-4" noValidate>
        <div className="space-y-1">
          <Field
            id="setupCode"
            label="Setup code"
            autoComplete="off"
            autoCapitalize="characters"
            spellCheck={false}
            placeholder="XXXX-XXXX-XXXX"
            aria-describedby="setupCode-hint"
            required
            autoFocus
          />
          <p id="setupCode-hint" className="text-xs text-slate-500">
            Retrace prints it when it starts. To see it again, run{" "}
            <code className="whitespace-nowrap font-mono">npx retrace setup-code</code> where Retrace runs.
          </p>
        </div>
        <Field id="email" label="Email" type="email" autoComplete="username" required />
        <Field id="password" label="Password" type="password" autoComplete="new-password" minLength={8} required />
        <Field
          id="confirmPassword"
          label="Confirm password"
          type="password"
          autoComplete="new-password"
          minLength={8}
          required
        />
        <p className="text-xs text-slate-500">At least 8 characters.</p>
        <FormError message={message} />
        {alreadyDone ? (
          <p className="text-sm">
            <Link href="/login" className="font-medium text-indigo-700 hover:underline">
              Go to sign in
            </Link>
          </p>
        ) : null}
        <SubmitButton label="Create admin" pendingLabel="Creating admin…" pending={pending} />
      </form>
    </AuthCard>
  );
}
