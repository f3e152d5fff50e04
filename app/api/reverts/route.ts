import { apiRoute, type Principal } from "@/lib/auth/session";
import { parseRevertRequest } from "@/lib/changes/revert/input";
import { executeRevert, planRevertOf } from "@/lib/changes/revert/service";
import { getDb } from "@/lib/db";
import { env } from "@/lib/env";
import { Forbidden } from "@/lib/errors";
import { readBodyText } from "@/lib/http/body";

export const dynamic = "force-dynamic";

const who = (principal: Principal) => (principal.kind === "user" ? principal.email : `token ${principal.name}`);

/**
 * POST /api/reverts: `{ changeId | transactionOf | context, sourceId?, execute }` → the revert's SQL and its
 * conflicts. Planning (execute: false) is open to every signed-in user and token; executing is for admins.
 */
export const POST = apiRoute(async (request, { principal }) => {
  const { target, execute } = parseRevertRequest(await readBodyText(request));
  if (!execute) return Response.json(await planRevertOf(getDb(), env.web.RETRACE_SECRET, target, who(principal)));
  if (principal.role !== "admin") throw new Forbidden("Only admins may execute a revert; viewers get its SQL.");
  // Audited in a store transaction that commits with the source's (lib/changes/revert/service.ts).
  const result = await executeRevert(getDb(), env.web.RETRACE_SECRET, target, who(principal), principal);
  return Response.json(result);
});
