import type { RawJson } from "../http/json";

/**
 * T as the browser holds it after reading the API's JSON (lib/api/client.ts): dates become ISO strings, RawJson
 * becomes the JSON it holds, parsed without losing a digit (lib/api/json.ts). Client types are derived from the
 * server's with it, never copied by hand.
 */
export type Jsonified<T> =
  T extends RawJson<infer J>
    ? J
    : T extends Date
      ? string
      : T extends readonly (infer U)[]
        ? Jsonified<U>[]
        : T extends object
          ? { [K in keyof T]: Jsonified<T[K]> }
          : T;
