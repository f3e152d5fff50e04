import { z } from "zod";
import { isJsonObject, LosslessNumber, parseJson, toJsonText, type JsonValue } from "../../api/json";
import { Invalid } from "../../errors";
import { refuseNul } from "../../http/body";
import type { RevertTarget } from "./select";

/**
 * POST /api/reverts's body: `{ changeId | transactionOf | context, sourceId?, execute? }`. Read losslessly, so
 * a context value such as an int8 request id keeps every digit on its way into the containment query.
 */

const ID = /^[1-9]\d{0,18}$/;
const MAX_CONTEXT_CHARS = 8 * 1024;

const changeIdSchema = z
  .union([z.string(), z.number(), z.instanceof(LosslessNumber)])
  .transform((value) => String(value))
  .refine((value) => ID.test(value), "must be a change id (a positive integer)");

const contextSchema = z
  .custom<JsonValue>((value) => isJsonObject(value as JsonValue), 'must be a JSON object such as {"request_id":"…"}')
  .transform((value) => toJsonText(value))
  .refine((text) => text !== "{}", "must hold at least one key")
  .refine((text) => text.length <= MAX_CONTEXT_CHARS, `must be at most ${MAX_CONTEXT_CHARS} characters of JSON`);

const bodySchema = z
  .object({
    changeId: changeIdSchema.optional(),
    transactionOf: changeIdSchema.optional(),
    context: contextSchema.optional(),
    sourceId: z.uuid("must be a database id").optional(),
    execute: z.boolean("must be true or false").default(false),
  })
  .strict()
  .superRefine((body, context) => {
    const given = [body.changeId, body.transactionOf, body.context].filter((v) => v !== undefined).length;
    if (given !== 1) {
      context.addIssue({ code: "custom", path: [], message: "give exactly one of changeId, transactionOf, context" });
    }
    if (body.sourceId !== undefined && body.context === undefined) {
      context.addIssue({ code: "custom", path: ["sourceId"], message: "goes with context only" });
    }
  });

export type RevertRequest = { target: RevertTarget; execute: boolean };

/** The request, or a ZodError / Invalid (400) naming the parameter. */
export function parseRevertRequest(text: string): RevertRequest {
  let body: JsonValue;
  try {
    body = text.trim() === "" ? {} : parseJson(text);
  } catch {
    throw new Invalid("The request body must be JSON.");
  }
  refuseNul(body);
  const parsed = bodySchema.parse(body);
  const target: RevertTarget =
    parsed.changeId !== undefined
      ? { changeId: parsed.changeId }
      : parsed.transactionOf !== undefined
        ? { transactionOf: parsed.transactionOf }
        : { context: parsed.context ?? "{}", ...(parsed.sourceId ? { sourceId: parsed.sourceId } : {}) };
  return { target, execute: parsed.execute };
}
