import { isJsonObject, parseJson, toJsonText } from "../../api/json";
import type { RevertTarget } from "./select";

/**
 * The /reverts page's URL: `?changeId=12`, `?transactionOf=12`, or `?context={"request_id":"…"}` (with
 * `&sourceId=` when the context spans databases). Client-safe.
 */

const ID = /^[1-9]\d{0,18}$/;

/** The target a URL names; null when it names none (or names one wrongly). */
export function readRevertTarget(params: { get(name: string): string | null }): RevertTarget | null {
  const changeId = params.get("changeId");
  if (changeId !== null) return ID.test(changeId) ? { changeId } : null;
  const transactionOf = params.get("transactionOf");
  if (transactionOf !== null) return ID.test(transactionOf) ? { transactionOf } : null;
  const context = params.get("context");
  if (context === null) return null;
  let parsed;
  try {
    parsed = parseJson(context);
  } catch {
    return null;
  }
  if (!isJsonObject(parsed) || Object.keys(parsed).length === 0) return null;
  const sourceId = params.get("sourceId");
  return { context: toJsonText(parsed), ...(sourceId ? { sourceId } : {}) };
}

/** The /reverts URL of a target. */
export function revertHref(target: RevertTarget): string {
  const params = new URLSearchParams();
  if ("changeId" in target) params.set("changeId", target.changeId);
  else if ("transactionOf" in target) params.set("transactionOf", target.transactionOf);
  else {
    params.set("context", target.context);
    if (target.sourceId) params.set("sourceId", target.sourceId);
  }
  return `/reverts?${params}`;
}
