/**
 * Domain errors: a stable machine-readable code from the closed set below and a message that is safe to show a
 * user. Nothing here knows about HTTP: lib/http/errors.ts turns codes into statuses, the CLI into exit codes.
 */

/** A source database refused, or cannot do, what was asked (lib/sources/errors.ts has a class for each). */
export type SourceErrorCode =
  | "source_unreachable"
  | "ssl_failed"
  | "authentication_failed"
  | "database_missing"
  | "unsupported_version"
  | "wal_level_not_logical"
  | "insufficient_privilege"
  | "no_free_slots"
  | "no_free_wal_senders"
  | "provisioning_failed"
  // The host is one this instance does not connect to (a socket path, a local address: lib/sources/access.ts).
  | "host_not_allowed";

export type ErrorCode =
  | "invalid"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "too_large"
  | "password_unreadable"
  | SourceErrorCode;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The input is wrong; `details` may list the fields ([{ path, message }]). */
export class Invalid extends AppError {
  constructor(message: string, details?: unknown) {
    super("invalid", message, details);
  }
}

export class Unauthorized extends AppError {
  constructor(message = "Sign in or send Authorization: Bearer <token>.") {
    super("unauthorized", message);
  }
}

export class Forbidden extends AppError {
  constructor(message = "Your role does not allow this.") {
    super("forbidden", message);
  }
}

export class NotFound extends AppError {
  constructor(what: string) {
    super("not_found", `${what} not found.`);
  }
}

/** A request body over the size limit. */
export class TooLarge extends AppError {
  constructor(message: string) {
    super("too_large", message);
  }
}

export class Conflict extends AppError {
  constructor(message: string) {
    super("conflict", message);
  }
}
