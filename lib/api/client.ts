import type { ApiErrorCode, ErrorBody } from "../http/errors";
import { parseJson } from "./json";

/**
 * How a body is read. `lossless` for anything that carries row images (the changes API): their int8 and
 * numeric values keep every digit. `json` (JSON.parse) for the rest, where every number is one JavaScript wrote.
 */
export type BodyFormat = "json" | "lossless";

export function parseBody(text: string, format: BodyFormat): unknown {
  return format === "lossless" ? parseJson(text) : (JSON.parse(text) as unknown);
}

/** An answer other than 2xx from Retrace's API: its error envelope, or what stood in for one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** The envelope's code; `http_error` when the body was not one (a proxy's error page, say). */
    readonly code: ApiErrorCode | "http_error",
    message: string,
    readonly details?: unknown,
    /** The id an unexpected server error was logged under. */
    readonly id?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The one place the error envelope is read. */
  static fromResponse(status: number, text: string): ApiError {
    const error = envelopeOf(text);
    return new ApiError(
      status,
      error?.code ?? "http_error",
      error?.message ?? `Request failed with status ${status}`,
      error?.details,
      error?.id,
    );
  }
}

function envelopeOf(text: string): ErrorBody["error"] | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const error = typeof body === "object" && body !== null ? (body as { error?: unknown }).error : undefined;
  if (typeof error !== "object" || error === null) return undefined;
  const { code, message, details, id } = error as Record<string, unknown>;
  if (typeof code !== "string" || typeof message !== "string") return undefined;
  // The code is the server's own (lib/http/errors.ts): the closed set it answers with.
  return { code: code as ApiErrorCode, message, details, id: typeof id === "string" ? id : undefined };
}

/**
 * The browser's one way to call Retrace's API: JSON in, `T` out (read as `format` says), ApiError on failure.
 * `T` is the route's type as lib/api/types.ts's Jsonified derives it; the server's types are the validation.
 */
export async function apiFetch<T>(path: string, init: RequestInit & { format?: BodyFormat } = {}): Promise<T> {
  const { format = "json", ...request } = init;
  const response = await fetch(path, {
    ...request,
    headers: { "content-type": "application/json", ...request.headers },
  });
  const text = await response.text();
  if (!response.ok) throw ApiError.fromResponse(response.status, text);
  return parseBody(text, format) as T;
}
