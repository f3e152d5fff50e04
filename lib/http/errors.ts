import crypto from "node:crypto";
import { ZodError } from "zod";
import { createLogger } from "../log";

/** A domain error with a stable machine-readable code; its message is safe to show a user. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class Invalid extends AppError {
  constructor(message: string, details?: unknown) {
    super("invalid", 400, message, details);
  }
}
export class Unauthorized extends AppError {
  constructor(message = "Sign in or send Authorization: Bearer <token>.") {
    super("unauthorized", 401, message);
  }
}
export class Forbidden extends AppError {
  constructor(message = "Your role does not allow this.") {
    super("forbidden", 403, message);
  }
}
export class NotFound extends AppError {
  constructor(what: string) {
    super("not_found", 404, `${what} not found.`);
  }
}
export class Conflict extends AppError {
  constructor(message: string) {
    super("conflict", 409, message);
  }
}

const log = createLogger("http");

export type ErrorBody = { error: { code: string; message: string; details?: unknown; id?: string } };

/** The one place errors become HTTP responses. Unknown errors never leak their text. */
export function toErrorResponse(error: unknown): Response {
  if (error instanceof AppError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message, details: error.details } };
    return Response.json(body, { status: error.status });
  }
  if (error instanceof ZodError) {
    const details = error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    const message = details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join("; ");
    return Response.json({ error: { code: "invalid", message, details } } satisfies ErrorBody, { status: 400 });
  }
  const id = crypto.randomUUID();
  log.error({ err: error, errorId: id }, "unhandled error");
  const body: ErrorBody = { error: { code: "internal", message: `Something went wrong (error id ${id}).`, id } };
  return Response.json(body, { status: 500 });
}
