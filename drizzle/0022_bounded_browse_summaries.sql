CREATE TABLE "change_contexts" (
	"source_id" uuid NOT NULL,
	"block" bigint NOT NULL,
	"context" jsonb NOT NULL,
	"min_id" bigint NOT NULL,
	"max_id" bigint NOT NULL,
	"min_lsn" "pg_lsn" NOT NULL,
	"max_lsn" "pg_lsn" NOT NULL,
	"min_at" timestamp (6) with time zone NOT NULL,
	"max_at" timestamp (6) with time zone NOT NULL,
	"n" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "change_rollups" (
	"span" integer NOT NULL,
	"start" timestamp with time zone NOT NULL,
	"source_id" uuid NOT NULL,
	"schema" text NOT NULL,
	"table" text NOT NULL,
	"creates" bigint NOT NULL,
	"updates" bigint NOT NULL,
	"deletes" bigint NOT NULL,
	"truncates" bigint NOT NULL,
	"fields" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "change_rollups_span_start_source_id_schema_table_pk" PRIMARY KEY("span","start","source_id","schema","table")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "change_contexts_key" ON "change_contexts" USING btree ("source_id","block",md5("context"::text));--> statement-breakpoint
CREATE INDEX "change_contexts_context" ON "change_contexts" USING gin ("context" jsonb_path_ops);--> statement-breakpoint
CREATE INDEX "change_contexts_max_id" ON "change_contexts" USING btree ("max_id");--> statement-breakpoint
-- Backfill: the rollups are the sums of the segments stored so far, per minute and per hour.
WITH segments AS (
	SELECT x.span, CASE x.span WHEN 60 THEN s.minute ELSE date_trunc('hour', s.minute, 'UTC') END AS start, s.*
	  FROM change_segments s, (VALUES (60), (3600)) x(span)
), rollup_sums AS (
	SELECT span, start, source_id, schema, "table", sum(creates) AS creates, sum(updates) AS updates,
	       sum(deletes) AS deletes, sum(truncates) AS truncates
	  FROM segments GROUP BY 1, 2, 3, 4, 5
), rollup_fields AS (
	SELECT span, start, source_id, schema, "table", jsonb_object_agg(k, total) AS fields
	  FROM (SELECT span, start, source_id, schema, "table", e.k, sum(e.v::bigint) AS total
	          FROM segments, jsonb_each_text(segments.fields) e(k, v) GROUP BY 1, 2, 3, 4, 5, 6) t
	 GROUP BY 1, 2, 3, 4, 5
)
INSERT INTO change_rollups (span, start, source_id, schema, "table", creates, updates, deletes, truncates, fields)
SELECT r.span, r.start, r.source_id, r.schema, r."table", r.creates, r.updates, r.deletes, r.truncates,
       coalesce(f.fields, '{}'::jsonb)
  FROM rollup_sums r LEFT JOIN rollup_fields f USING (span, start, source_id, schema, "table");--> statement-breakpoint
-- Backfill: where each context's changes stored so far are, per block of 16384 ids (SEGMENT_BLOCK_IDS).
INSERT INTO change_contexts (source_id, block, context, min_id, max_id, min_lsn, max_lsn, min_at, max_at, n)
SELECT source_id, id / 16384, context::text::jsonb, min(id), max(id), min(commit_lsn), max(commit_lsn),
       min(committed_at), max(committed_at), count(*)
  FROM changes
 WHERE context IS NOT NULL AND context <> '{}'::jsonb
 GROUP BY source_id, id / 16384, context::text;
