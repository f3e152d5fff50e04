import { apiRoute } from "@/lib/auth/session";
import { exportChanges } from "@/lib/changes/export";
import { exportParams, parseFilterParams } from "@/lib/changes/params";
import { getDb } from "@/lib/db";

export const dynamic = "force-dynamic";

const CONTENT_TYPE = { ndjson: "application/x-ndjson; charset=utf-8", csv: "text/csv; charset=utf-8" };

/**
 * GET /api/changes/export?<filters>&format=ndjson|csv: the filtered list as a download, streamed page by page as
 * the client reads it (lib/changes/export.ts), so its size does not matter.
 */
export const GET = apiRoute(async (request) => {
  const { filters, extra } = parseFilterParams(new URL(request.url).searchParams, exportParams);
  const chunks = exportChanges(getDb(), filters, extra.format);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  return new Response(body, {
    headers: {
      "content-type": CONTENT_TYPE[extra.format],
      "content-disposition": `attachment; filename="changes.${extra.format}"`,
      "cache-control": "no-store",
    },
  });
});
