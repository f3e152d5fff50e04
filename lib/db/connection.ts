import fs from "node:fs";
import path from "node:path";
import type pg from "pg";
import { env } from "../env";

/**
 * How every process (web, worker, CLI, migrations) connects to the store: DATABASE_URL, with its TLS parameters
 * read here rather than by node-postgres. node-postgres treats `sslmode=require` and `verify-ca` as `verify-full`
 * (it warns, then refuses a managed database's certificate its own way); the store follows libpq instead, so a URL
 * a provider hands out means what its documentation says.
 */

export const STORE_SSL_MODES = ["disable", "require", "verify-ca", "verify-full"] as const;
export type StoreSslMode = (typeof STORE_SSL_MODES)[number];

/** Where the CA certificates that verify the store come from: a PEM file, or the CAs Node trusts. */
export type StoreCa = { file: string; from: "sslrootcert" | "RETRACE_STORE_SSL_ROOT_CERT" } | { file: null };

export type StoreTls = { mode: StoreSslMode; ca: StoreCa };

/** Connection parameters this module reads itself; the rest of the URL goes to node-postgres untouched. */
const TLS_PARAMS = [
  "sslmode",
  "sslrootcert",
  "sslcert",
  "sslkey",
  "ssl",
  "sslnegotiation",
  "uselibpqcompat",
  "channel_binding",
];

/** A store that cannot be opened as configured, or answers the connection with an error; never carries a secret. */
export class StoreConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreConnectionError";
  }
}

function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new StoreConnectionError("DATABASE_URL is not a postgres:// URL");
  }
}

function readFile(file: string, what: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new StoreConnectionError(`Cannot read ${what} ${file} (${code})`, { cause: error });
  }
}

/** The TLS DATABASE_URL and RETRACE_STORE_SSL_ROOT_CERT ask for (libpq's meaning of each mode). */
export function storeTls(url: string): StoreTls {
  const params = parseUrl(url).searchParams;
  const rootCert = params.get("sslrootcert");
  const envCert = env.store.RETRACE_STORE_SSL_ROOT_CERT;
  const ca: StoreCa =
    rootCert === "system"
      ? { file: null }
      : rootCert
        ? { file: rootCert, from: "sslrootcert" }
        : envCert
          ? { file: envCert, from: "RETRACE_STORE_SSL_ROOT_CERT" }
          : { file: null };
  const sslmode = params.get("sslmode");
  const ssl = params.get("ssl");
  let mode: StoreSslMode;
  if (sslmode !== null) {
    if (sslmode === "allow" || sslmode === "prefer") {
      throw new StoreConnectionError(
        `DATABASE_URL: sslmode=${sslmode} is not supported for the store, as it may fall back to an unencrypted ` +
          "connection without saying so. Use sslmode=verify-full (encrypted, certificate checked), " +
          "sslmode=require (encrypted) or sslmode=disable.",
      );
    }
    if (!(STORE_SSL_MODES as readonly string[]).includes(sslmode)) {
      throw new StoreConnectionError(`DATABASE_URL: sslmode must be one of ${STORE_SSL_MODES.join(", ")}`);
    }
    mode = sslmode as StoreSslMode;
    // libpq: `require` with a root certificate verifies the chain, as verify-ca does.
    if (mode === "require" && ca.file !== null) mode = "verify-ca";
  } else if (ssl === "true" || ssl === "1") {
    mode = "verify-full";
  } else if (ssl === "false" || ssl === "0") {
    mode = "disable";
  } else {
    // A CA given with no mode can only mean the certificate is to be checked.
    mode = ca.file !== null || rootCert === "system" ? "verify-full" : "disable";
  }
  return { mode, ca };
}

function sslOptions(tls: StoreTls, params: URLSearchParams): pg.ClientConfig["ssl"] {
  if (tls.mode === "disable") return false;
  const clientCert = params.get("sslcert");
  const clientKey = params.get("sslkey");
  const client = {
    ...(clientCert ? { cert: readFile(clientCert, "the client certificate (sslcert)") } : {}),
    ...(clientKey ? { key: readFile(clientKey, "the client key (sslkey)") } : {}),
  };
  if (tls.mode === "require") return { rejectUnauthorized: false, ...client };
  const ca = tls.ca.file === null ? {} : { ca: readFile(tls.ca.file, `the store's CA file (${tls.ca.from})`) };
  // verify-ca checks the chain only; verify-full (Node's default) also the host name against the certificate.
  const identity = tls.mode === "verify-ca" ? { checkServerIdentity: () => undefined } : {};
  return { rejectUnauthorized: true, ...ca, ...identity, ...client };
}

/**
 * node-postgres options for a connection to the store: the URL without its TLS parameters, and the TLS options
 * they mean. Throws StoreConnectionError when the URL asks for something the store cannot do, or a file it names
 * cannot be read.
 */
export function storeClientConfig(url: string, applicationName: string): pg.ClientConfig {
  const parsed = parseUrl(url);
  const params = new URLSearchParams(parsed.searchParams);
  const tls = storeTls(url);
  const ssl = sslOptions(tls, params);
  const channelBinding = params.get("channel_binding");
  // Left in the URL, node-postgres would turn TLS on with its own verification, over the options set here.
  const negotiation = params.get("sslnegotiation");
  if (negotiation !== null && negotiation !== "postgres" && negotiation !== "direct") {
    throw new StoreConnectionError("DATABASE_URL: sslnegotiation must be postgres or direct");
  }
  if (negotiation === "direct" && ssl === false) {
    throw new StoreConnectionError("DATABASE_URL: sslnegotiation=direct needs sslmode=require or stronger");
  }
  for (const name of TLS_PARAMS) parsed.searchParams.delete(name);
  return {
    connectionString: parsed.toString(),
    ssl,
    ...(negotiation === "direct" ? { sslnegotiation: "direct" as const } : {}),
    application_name: applicationName,
    // SCRAM-SHA-256-PLUS when the server offers it: the password exchange is bound to this TLS session.
    ...(ssl !== false && (channelBinding === "require" || channelBinding === "prefer")
      ? { enableChannelBinding: true }
      : {}),
  };
}

/**
 * DATABASE_URL with the files it names (sslrootcert, sslcert, sslkey) made absolute against this process's working
 * directory: the command line runs web and worker in the project's directory, not the operator's.
 */
export function withAbsoluteTlsFiles(url: string): string {
  const parsed = parseUrl(url);
  let changed = false;
  for (const name of ["sslrootcert", "sslcert", "sslkey"]) {
    const file = parsed.searchParams.get(name);
    if (!file || file === "system" || path.isAbsolute(file)) continue;
    parsed.searchParams.set(name, path.resolve(file));
    changed = true;
  }
  return changed ? parsed.toString() : url;
}

/** host:port and user of the store, for messages (never the password). */
export function describeStore(url: string): { address: string; user: string; database: string } {
  const parsed = parseUrl(url);
  return {
    address: `${parsed.hostname}:${parsed.port || "5432"}`,
    user: decodeURIComponent(parsed.username) || "(default user)",
    database: decodeURIComponent(parsed.pathname.slice(1)) || "(default database)",
  };
}

const UNTRUSTED_CERTIFICATE = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_SIGNATURE_FAILURE",
]);

/**
 * A failure to open or use the store, said so an operator knows what to change: which CA refused which server,
 * a certificate for another host, TLS the server does not offer or that it requires, a refused password, a
 * missing privilege. The URL's password appears in none of them. Anything else is returned as it is.
 */
export function explainStoreError(thrown: unknown, url: string): unknown {
  if (!(thrown instanceof Error) || thrown instanceof StoreConnectionError) return thrown;
  // Drizzle wraps the driver's error (DrizzleQueryError): the code is on its cause.
  let error: Error = thrown;
  while (!(error as { code?: unknown }).code && error.cause instanceof Error) error = error.cause;
  const { address, user, database } = describeStore(url);
  const code = String((error as { code?: unknown }).code ?? "");
  let tls: StoreTls | null = null;
  try {
    tls = storeTls(url);
  } catch {
    tls = null;
  }
  const caName =
    tls && tls.ca.file !== null ? `the CA certificate in ${tls.ca.file} (${tls.ca.from})` : "the CAs Node trusts";
  const fail = (message: string) => new StoreConnectionError(message, { cause: thrown });
  if (UNTRUSTED_CERTIFICATE.has(code)) {
    return fail(
      `The store's TLS certificate at ${address} is not signed by ${caName} (${code}). Set ` +
        "RETRACE_STORE_SSL_ROOT_CERT (or sslrootcert in DATABASE_URL) to the CA file of the store's provider.",
    );
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return fail(
      `The store's TLS certificate is not issued for the host name in DATABASE_URL (${address}): connect with a ` +
        "host name the certificate names, or use sslmode=verify-ca (chain checked, host name not).",
    );
  }
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") {
    return fail(`The store's TLS certificate at ${address} is not valid now (${code}).`);
  }
  if (/does not support SSL/i.test(error.message)) {
    return fail(`The store at ${address} does not accept TLS, which DATABASE_URL asks for (sslmode=${tls?.mode}).`);
  }
  if (code === "28000" && /no encryption/i.test(error.message)) {
    return fail(
      `The store at ${address} accepts only encrypted connections for ${user}: add sslmode=verify-full (or ` +
        "sslmode=require) to DATABASE_URL.",
    );
  }
  if (code === "28P01") return fail(`The store at ${address} refused the password of ${user}.`);
  if (code === "3D000") return fail(`The store at ${address} has no database ${database}.`);
  if (code === "42501") {
    return fail(
      `The store role ${user} lacks a privilege in ${database} (${error.message}). It needs to own the database, ` +
        'or CREATE on it and on its schema public: see "Running the store on a managed PostgreSQL" in the README.',
    );
  }
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "ETIMEDOUT" || code === "EAI_AGAIN") {
    return fail(`Could not reach the store at ${address} (${code}).`);
  }
  return thrown;
}
