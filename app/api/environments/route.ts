import { apiRoute } from "@/lib/auth/session";
import { listEnvironments } from "@/lib/changes/trail";
import { getDb } from "@/lib/db";

export const dynamic = "force-dynamic";

/** GET /api/environments: the environments that have sources, custom names included, each with its databases. */
export const GET = apiRoute(async () => Response.json({ environments: await listEnvironments(getDb()) }));
