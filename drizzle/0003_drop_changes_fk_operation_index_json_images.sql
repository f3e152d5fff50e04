ALTER TABLE "changes" DROP CONSTRAINT "changes_source_id_sources_id_fk";
--> statement-breakpoint
DROP INDEX "changes_operation_id";--> statement-breakpoint
-- One statement so the table is rewritten once, not once per column. Existing rows keep jsonb's
-- text (keys ordered by length); rows written from now on keep the worker's column order.
ALTER TABLE "changes" ALTER COLUMN "before" SET DATA TYPE json USING "before"::json, ALTER COLUMN "after" SET DATA TYPE json USING "after"::json;
