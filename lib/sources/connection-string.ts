import type { SslMode } from "./input";

/** Connection form fields a pasted connection string can fill. Client-safe. */
export type ParsedConnectionString = {
  host?: string;
  port?: string;
  database?: string;
  username?: string;
  password?: string;
  sslMode?: SslMode;
  /**
   * The CA file a string names (sslrootcert=…): a path on the machine it came from, which Retrace cannot read;
   * the form asks for the file itself.
   */
  sslRootCertFile?: string;
};

/** libpq sslmode values mapped to the modes Retrace offers (verify-ca is upgraded to verify-full). */
const SSL_MODE_MAP: Record<string, SslMode> = {
  disable: "disable",
  allow: "prefer",
  prefer: "prefer",
  require: "require",
  "verify-ca": "verify-full",
  "verify-full": "verify-full",
};

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function compact(fields: ParsedConnectionString): ParsedConnectionString {
  return Object.fromEntries(
    Object.entries(fields).filter(([, v]) => v !== undefined && v !== ""),
  ) as ParsedConnectionString;
}

/**
 * `postgres://user:pass@host:port/db?sslmode=require` (or postgresql://). Hand-written on purpose: the form runs in
 * the browser, and pg-connection-string (node-postgres's parser) cannot be bundled for it (it requires Node's fs,
 * for sslrootcert and the other file parameters: `next build` fails); it would also throw on the several hosts
 * libpq allows (h1:5432,h2:5433) and leave reserved escapes in the database name (%40, %2F) undecoded.
 */
function parseUrl(input: string): ParsedConnectionString {
  const rest = input.replace(/^postgres(?:ql)?:\/\//i, "").split("#")[0] ?? "";
  const queryAt = rest.indexOf("?");
  const beforeQuery = queryAt >= 0 ? rest.slice(0, queryAt) : rest;
  const params = new URLSearchParams(queryAt >= 0 ? rest.slice(queryAt + 1) : "");
  // The last "@" ends the user info, so an unencoded "@" in a password still works.
  const at = beforeQuery.lastIndexOf("@");
  const userInfo = at >= 0 ? beforeQuery.slice(0, at) : "";
  const location = at >= 0 ? beforeQuery.slice(at + 1) : beforeQuery;
  const slash = location.indexOf("/");
  // Several hosts ("h1:5432,h2:5432") are allowed by libpq; the first one is used.
  const hostPort = (slash >= 0 ? location.slice(0, slash) : location).split(",")[0] ?? "";
  const database = slash >= 0 ? location.slice(slash + 1) : "";
  const hostMatch = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostPort);
  const rawHost = hostMatch?.[1] ?? hostPort;
  const colon = userInfo.indexOf(":");
  const user = colon >= 0 ? userInfo.slice(0, colon) : userInfo;
  const password = colon >= 0 ? userInfo.slice(colon + 1) : undefined;
  const sslmode = params.get("sslmode");
  return compact({
    host: params.get("host") ?? decode(rawHost.replace(/^\[(.*)\]$/, "$1")),
    port: params.get("port") ?? hostMatch?.[2],
    database: params.get("dbname") ?? decode(database),
    username: params.get("user") ?? decode(user),
    password: params.get("password") ?? (password !== undefined ? decode(password) : undefined),
    sslMode: sslmode ? SSL_MODE_MAP[sslmode] : undefined,
    sslRootCertFile: params.get("sslrootcert") ?? undefined,
  });
}

/** libpq keyword/value form: `host=db.example.com port=5432 dbname=app user=me password='a b'`. */
function parseKeywordValue(input: string): ParsedConnectionString | null {
  const pairs = new Map<string, string>();
  const re = /(\w+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S+))/g;
  for (const m of input.matchAll(re)) {
    const key = m[1];
    if (!key) continue;
    pairs.set(key.toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : (m[3] ?? ""));
  }
  if (pairs.size === 0) return null;
  const sslmode = pairs.get("sslmode");
  return compact({
    host: pairs.get("host") ?? pairs.get("hostaddr"),
    port: pairs.get("port"),
    database: pairs.get("dbname"),
    username: pairs.get("user"),
    password: pairs.get("password"),
    sslMode: sslmode ? SSL_MODE_MAP[sslmode] : undefined,
    sslRootCertFile: pairs.get("sslrootcert"),
  });
}

/** Parses a pasted connection string; null when it is neither form. */
export function parseConnectionString(input: string): ParsedConnectionString | null {
  const trimmed = input.trim();
  if (trimmed === "") return null;
  return /^postgres(?:ql)?:\/\//i.test(trimmed) ? parseUrl(trimmed) : parseKeywordValue(trimmed);
}
