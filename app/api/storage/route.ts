import { apiRoute } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { storageReport } from "@/lib/storage/service";

export const dynamic = "force-dynamic";

/**
 * GET /api/storage -> the trail's size per environment, database and table, its growth per day over the last 30
 * days, what the retention rules free, and the store's other tables.
 */
export const GET = apiRoute(async () => Response.json(await storageReport(getDb(), new Date())));
