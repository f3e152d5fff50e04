"use client";

import { signIn } from "next-auth/react";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { safeCallbackUrl } from "./callback-url";
import { AuthCard, Field, FormError, SubmitButton } from "./fields";

export function LoginForm({ callbackUrl }: { callbackUrl?: string }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPending(true);
    setError(null);
    try {
      const result = await signIn("credentials", {
        email: String(form.get("email") ?? ""),
        password: String(form.get("password") ?? ""),
        redirect: false,
      });
      if (!result?.ok || result.error) {
        // next-auth's own code for refused credentials; any other text is the server's message to the user.
        setError(
          !result?.error || result.error === "CredentialsSignin" ? "Email or password is incorrect." : result.error,
        );
        setPending(false);
        return;
      }
      router.replace(safeCallbackUrl(callbackUrl, window.location.origin));
      router.refresh();
    } catch {
      setError("Could not reach the server. Try again.");
      setPending(false);
    }
  }

  return (
    <AuthCard title="Sign in to Retrace" subtitle="Audit trails and time travel for PostgreSQL">
      <form onSubmit={onSubmit} className="space-y-4" noValidate>
        <Field id="email" label="Email" type="email" autoComplete="username" required autoFocus />
        <Field id="password" label="Password" type="password" autoComplete="current-password" required />
        <FormError message={error} />
        <SubmitButton label="Sign in" pendingLabel="Signing in…" pending={pending} />
      </form>
    </AuthCard>
  );
}
