import pino from "pino";
import { env } from "./env";

/** Structured logs. Anything that looks like a password or connection secret is redacted. */
export function createLogger(name: string, level: string = env.log.LOG_LEVEL) {
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
