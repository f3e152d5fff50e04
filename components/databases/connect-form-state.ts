/**
 * The connect form's fields as typed, and the request they make: what the form holds apart from how it
 * looks.
 */
import type { ConnectFields } from "./api";

/** The environment select's "Other…" option: the custom environment field holds the name. */
export const CUSTOM = "__custom";
/** The provider select's "Detect automatically" option. */
export const DETECT = "";

export type SetupPath = "automatic" | "role";

export type FormState = {
  name: string;
  host: string;
  port: string;
  database: string;
  username: string;
  password: string;
  environment: string;
  customEnvironment: string;
  sslMode: string;
  sslRootCert: string;
  hostKind: string;
};

export const INITIAL: FormState = {
  name: "",
  host: "",
  port: "5432",
  database: "",
  username: "",
  password: "",
  environment: "production",
  customEnvironment: "",
  sslMode: "prefer",
  sslRootCert: "",
  hostKind: DETECT,
};

export function toRequest(state: FormState): ConnectFields {
  return {
    name: state.name,
    host: state.host,
    port: state.port,
    database: state.database,
    username: state.username,
    password: state.password,
    sslMode: state.sslMode,
    sslRootCert: state.sslMode === "verify-full" ? state.sslRootCert : "",
    hostKind: state.hostKind || null,
    environment: state.environment === CUSTOM ? state.customEnvironment.trim() : state.environment,
  };
}

export const splitTables = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter(Boolean);
