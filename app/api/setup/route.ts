import { z } from "zod";
import { countUsers, createFirstAdmin } from "@/lib/auth/users";
import { getDb } from "@/lib/db";
import { apiRoute } from "@/lib/auth/session";
import { isSetupCode } from "@/lib/auth/setup-code";
import { env } from "@/lib/env";
import { Conflict, Forbidden, Invalid } from "@/lib/errors";
import { MAX_PUBLIC_BODY_BYTES, NOT_JSON, readJsonBody } from "@/lib/http/body";

export const dynamic = "force-dynamic";

const setupSchema = z
  .strictObject({
    email: z.string({ error: "Email is required" }).trim().toLowerCase().email("Enter a valid email address"),
    password: z.string({ error: "Password is required" }).min(8, "Password must be at least 8 characters").max(1000),
    // Optional for API callers; the form sends it so a typo is caught on the server too.
    confirmPassword: z.string().optional(),
    // Checked before the rest (isSetupCode).
    setupCode: z.string(),
  })
  .refine((input) => input.confirmPassword === undefined || input.confirmPassword === input.password, {
    path: ["confirmPassword"],
    message: "Passwords do not match",
  });

/**
 * POST /api/setup { email, password, confirmPassword?, setupCode }: creates the first admin of a new instance.
 * Public on purpose (there is nobody to sign in as yet), but only with the instance's setup code (403 without
 * it), and refused with 409 as soon as any user exists.
 */
export const POST = apiRoute(
  async (request) => {
    const db = getDb();
    // Checked before parsing so a finished instance answers 409 whatever is sent.
    if ((await countUsers(db)) > 0) throw new Conflict("Setup is already complete.");
    const body = await readJsonBody(request, MAX_PUBLIC_BODY_BYTES).catch((error: unknown) => {
      const notJson = error instanceof Invalid && error.message === NOT_JSON;
      throw notJson ? new Invalid("Send a JSON body: { email, password }.", error.details) : error;
    });
    // The code `retrace start` printed (lib/auth/setup-code.ts): checked first, so a wrong one learns nothing else.
    const code = typeof body === "object" && body !== null ? (body as { setupCode?: unknown }).setupCode : undefined;
    if (typeof code !== "string" || !isSetupCode(env.web.RETRACE_SECRET, code)) {
      throw new Forbidden(
        `${code ? "That is not this instance's setup code." : "Enter the setup code."} ` +
          "Retrace prints it when it starts (retrace start); run npx retrace setup-code where it runs to see it again.",
      );
    }
    const { email, password } = setupSchema.parse(body);
    const user = await createFirstAdmin(db, { email, password });
    return Response.json({ user: { id: user.id, email: user.email, role: user.role } }, { status: 201 });
  },
  { public: true },
);
