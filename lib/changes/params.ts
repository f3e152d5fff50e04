import { z } from "zod";
import { isJsonObject, parseJson } from "../api/json";
import type { Operation } from "../db/schema";
import { Invalid } from "../errors";
import { nulInParameter } from "../http/params";
import { FILTER_KEYS, OPERATIONS } from "./filters";
import { parseIsoTime } from "./time";

/** What a list of changes is filtered by; every filter given must hold (AND). */
export type ChangeFilters = {
  /** One operation or several (any of them). */
  operation?: Operation | readonly Operation[];
  /** `table` or `schema.table`, matched case-insensitively against the tables the trail holds. */
  table?: string;
  /** The key as typed: its text, or a composite key as `31,1`, `(31,1)` or a JSON array (primary-key.ts). */
  primaryKey?: string;
  environment?: string;
  database?: string;
  sourceId?: string;
  /** Source commit time, inclusive: UTC text as parseIsoTime returns it. */
  from?: string;
  /** Source commit time, exclusive: UTC text as parseIsoTime returns it. */
  to?: string;
  /** A JSON object's text that the change's context contains (PostgreSQL's `@>`). */
  context?: string;
  /** A column that an update changed. */
  field?: string;
};

export type PageRequest = { cursor?: string; limit: number };

const text = z.string().trim().min(1, "must not be empty").max(500, "must be at most 500 characters");
const limitMessage = "must be an integer between 1 and 500";
const operationsMessage = `must be one or more of ${OPERATIONS.join(", ")}, separated by commas`;
const TIME_MESSAGE = "must be an ISO-8601 time with a time zone, e.g. 2024-05-06T07:08:09Z";

const time = z.string().transform((value, ctx) => {
  const parsed = parseIsoTime(value);
  if (parsed === null) ctx.addIssue({ code: "custom", message: TIME_MESSAGE });
  return parsed ?? "";
});

const operations = z.string().transform((value, ctx): Operation[] => {
  const names = value
    .split(",")
    .map((name) => name.trim().toUpperCase())
    .filter(Boolean);
  const unknown = names.filter((name) => !(OPERATIONS as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) ctx.addIssue({ code: "custom", message: operationsMessage });
  return OPERATIONS.filter((operation) => names.includes(operation));
});

const context = z
  .string()
  .max(4000, "must be at most 4000 characters")
  .refine(
    (value) => {
      try {
        return isJsonObject(parseJson(value));
      } catch {
        return false;
      }
    },
    { message: 'must be a JSON object, e.g. {"user_id":42}' },
  );

/** The filters' parameters: the same in the list, the live tail, activity and export. */
const filterShape = {
  operation: operations.optional(),
  table: text.optional(),
  primaryKey: z.string().max(2000, "must be at most 2000 characters").optional(),
  environment: text.optional(),
  database: text.optional(),
  sourceId: z.uuid({ error: "must be a UUID" }).optional(),
  from: time.optional(),
  to: time.optional(),
  context: context.optional(),
  field: text.optional(),
};

const limit = z.coerce
  .number({ error: limitMessage })
  .int(limitMessage)
  .min(1, limitMessage)
  .max(500, limitMessage)
  .default(50);

const listSchema = z
  .object({ ...filterShape, cursor: z.string().max(200, "is not valid").optional(), limit })
  .refine(timesInOrder, { message: "must be later than from", path: ["to"] });

type TimeRange = { from?: string; to?: string };

function timesInOrder(value: TimeRange): boolean {
  return value.from === undefined || value.to === undefined || value.from < value.to;
}

/**
 * The search parameters as a record: empty ones count as absent (a form can send every field), unknown ones are
 * ignored, and one given twice is refused (400 naming it) rather than one of its values silently winning.
 */
export function singleParams(params: URLSearchParams): Record<string, string> {
  const present: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [key, value] of params) {
    if (seen.has(key)) {
      throw new Invalid(`${key}: given more than once; give it once`, [{ path: key, message: "given more than once" }]);
    }
    seen.add(key);
    if (key.includes("\u0000") || value.includes("\u0000")) throw nulInParameter(key);
    if (value !== "") present[key] = value;
  }
  return present;
}

/** The filters of a parsed record, without the keys that were absent. */
function filtersOf(parsed: Record<string, unknown>): ChangeFilters {
  const filters: Record<string, unknown> = {};
  for (const key of FILTER_KEYS) if (parsed[key] !== undefined) filters[key] = parsed[key];
  return filters as ChangeFilters;
}

/**
 * GET /api/changes query parameters (also the page's URL). Throws ZodError or Invalid (400, naming the parameter).
 * A `context` of `{}` filters nothing (every context contains it, and a change without one shows `{}`).
 */
export function parseListParams(params: URLSearchParams): { filters: ChangeFilters; page: PageRequest } {
  const parsed = listSchema.parse(singleParams(params));
  const filters = filtersOf(parsed);
  if (filters.context !== undefined && filters.context.replace(/\s/g, "") === "{}") delete filters.context;
  return { filters, page: { cursor: parsed.cursor, limit: parsed.limit } };
}

/** The filters alone, with `extra` parameters of the endpoint's own (live token, buckets, format). */
export function parseFilterParams<E extends z.ZodRawShape>(
  params: URLSearchParams,
  extra: E,
): { filters: ChangeFilters; extra: z.infer<z.ZodObject<E>> } {
  const schema = z.object({ ...filterShape, ...extra }).refine((value) => timesInOrder(value as TimeRange), {
    message: "must be later than from",
    path: ["to"],
  });
  const parsed = schema.parse(singleParams(params)) as Record<string, unknown>;
  const filters = filtersOf(parsed);
  if (filters.context !== undefined && filters.context.replace(/\s/g, "") === "{}") delete filters.context;
  const extraValues: Record<string, unknown> = {};
  for (const key of Object.keys(extra)) extraValues[key] = parsed[key];
  return { filters, extra: extraValues as z.infer<z.ZodObject<E>> };
}

/** GET /api/changes/live: the token a list or a previous live call handed out. */
export const liveParams = { token: z.string({ error: "is required" }).min(1, "is required").max(20_000), limit };

const bucketsMessage = "must be an integer between 1 and 500";
/** GET /api/changes/activity: how many buckets the range is cut into. */
export const activityParams = {
  buckets: z.coerce
    .number({ error: bucketsMessage })
    .int(bucketsMessage)
    .min(1, bucketsMessage)
    .max(500, bucketsMessage)
    .default(60),
};

/** GET /api/changes/export. */
export const exportParams = {
  format: z.enum(["ndjson", "csv"], { error: "must be ndjson or csv" }).default("ndjson"),
};

const historySchema = z.object({
  table: z.string({ error: "is required" }).trim().min(1, "is required").max(500, "must be at most 500 characters"),
  primaryKey: z.string({ error: "is required" }).min(1, "is required").max(2000, "must be at most 2000 characters"),
  database: text.optional(),
  sourceId: z.uuid({ error: "must be a UUID" }).optional(),
  cursor: z.string().max(200, "is not valid").optional(),
  limit,
});

/** GET /api/records/history: one row (table and key, optionally its database or source) and a page. */
export function parseHistoryParams(params: URLSearchParams) {
  const { cursor, limit: pageLimit, ...record } = historySchema.parse(singleParams(params));
  return { record, page: { cursor, limit: pageLimit } };
}

const tablesSchema = z.object({
  q: z.string().trim().max(200, "must be at most 200 characters").optional(),
  environment: text.optional(),
  database: text.optional(),
});

/** GET /api/trail/tables: the type-ahead's text, environment and database. */
export function parseTablesParams(params: URLSearchParams) {
  return tablesSchema.parse(singleParams(params));
}
