import pino from "pino";

/** Structured logs. Anything that looks like a password or connection secret is redacted. */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? "info") {
  return pino({
    name,
    level,
    redact: {
      paths: [
        "password",
        "*.password",
        "passwordEncrypted",
        "*.passwordEncrypted",
        "connectionString",
        "*.connectionString",
      ],
      censor: "[redacted]",
    },
  });
}

export type Logger = ReturnType<typeof createLogger>;
