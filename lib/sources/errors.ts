import { AppError, type SourceErrorCode } from "../errors";

/**
 * Errors about a source database: the request was understood, but the source (or its configuration) does not
 * allow it. Messages are safe to show and never contain a password; `details.fix` holds the exact SQL or setting
 * that resolves the problem, if any.
 */
export class SourceError extends AppError {
  declare readonly code: SourceErrorCode;

  constructor(code: SourceErrorCode, message: string, fix?: string) {
    super(code, message, fix ? { fix } : undefined);
  }

  get fix(): string | undefined {
    const details = this.details as { fix?: string } | undefined;
    return details?.fix;
  }
}

export class SourceUnreachable extends SourceError {
  constructor(message: string, fix?: string) {
    super("source_unreachable", message, fix);
  }
}
export class SslFailed extends SourceError {
  constructor(message: string, fix?: string) {
    super("ssl_failed", message, fix);
  }
}
export class AuthenticationFailed extends SourceError {
  constructor(message: string, fix?: string) {
    super("authentication_failed", message, fix);
  }
}
export class DatabaseMissing extends SourceError {
  constructor(message: string, fix?: string) {
    super("database_missing", message, fix);
  }
}
export class UnsupportedVersion extends SourceError {
  constructor(message: string, fix?: string) {
    super("unsupported_version", message, fix);
  }
}
export class WalLevelNotLogical extends SourceError {
  constructor(message: string, fix?: string) {
    super("wal_level_not_logical", message, fix);
  }
}
export class InsufficientPrivilege extends SourceError {
  constructor(message: string, fix?: string) {
    super("insufficient_privilege", message, fix);
  }
}
export class NoFreeSlots extends SourceError {
  constructor(message: string, fix?: string) {
    super("no_free_slots", message, fix);
  }
}
export class NoFreeWalSenders extends SourceError {
  constructor(message: string, fix?: string) {
    super("no_free_wal_senders", message, fix);
  }
}
export class ProvisioningFailed extends SourceError {
  constructor(message: string, fix?: string) {
    super("provisioning_failed", message, fix);
  }
}

/** The host is a socket path or a local address, and this instance does not connect to those (access.ts). */
export class HostNotAllowed extends SourceError {
  constructor(message: string, fix: string) {
    super("host_not_allowed", message, fix);
  }
}

/** The stored password of a source does not decrypt with this instance's secret. */
export class PasswordUnreadable extends AppError {
  constructor(
    message = "The stored password of this database cannot be decrypted with this instance's RETRACE_SECRET " +
      "(was the secret changed?). Restore the previous secret, or remove the database and connect it again.",
  ) {
    super("password_unreadable", message);
  }
}
