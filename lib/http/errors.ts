import crypto from "node:crypto";
import { ZodError } from "zod";
import { AppError, type ErrorCode } from "../errors";
import { createLogger } from "../log";

/**
 * The HTTP status of each domain error code. 422 for the source's refusals: the request was understood, but the
 * source (or its configuration, or the stored secret) does not allow it.
 */
const STATUS: Record<ErrorCode, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  password_unreadable: 422,
  source_unreachable: 422,
  ssl_failed: 422,
  authentication_failed: 422,
  database_missing: 422,
  unsupported_version: 422,
  wal_level_not_logical: 422,
  insufficient_privilege: 422,
  no_free_slots: 422,
  no_free_wal_senders: 422,
  provisioning_failed: 422,
  host_not_allowed: 422,
};

/** `internal`: anything that is not a domain error; its detail is logged under `id`, never sent. */
export type ApiErrorCode = ErrorCode | "internal";

/** The error envelope every /api route answers with. */
export type ErrorBody = { error: { code: ApiErrorCode; message: string; details?: unknown; id?: string } };

/** The status an error code is answered with. */
export function httpStatus(code: ApiErrorCode): number {
  return code === "internal" ? 500 : STATUS[code];
}

const log = createLogger("http");

/** The one place errors become HTTP responses. Unknown errors never leak their text. */
export function toErrorResponse(error: unknown): Response {
  if (error instanceof AppError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message, details: error.details } };
    return Response.json(body, { status: httpStatus(error.code) });
  }
  if (error instanceof ZodError) {
    // An unknown field is named as its own path, like any other field that is wrong.
    const details = error.issues.flatMap((i) =>
      i.code === "unrecognized_keys"
        ? i.keys.map((key) => ({ path: [...i.path, key].join("."), message: "is not a field this accepts" }))
        : [{ path: i.path.join("."), message: i.message }],
    );
    const message = details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join("; ");
    return Response.json({ error: { code: "invalid", message, details } } satisfies ErrorBody, {
      status: httpStatus("invalid"),
    });
  }
  const id = crypto.randomUUID();
  log.error({ err: error, errorId: id }, "unhandled error");
  const body: ErrorBody = { error: { code: "internal", message: `Something went wrong (error id ${id}).`, id } };
  return Response.json(body, { status: httpStatus("internal") });
}
