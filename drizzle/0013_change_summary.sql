CREATE TABLE "change_segments" (
	"source_id" uuid NOT NULL,
	"schema" text NOT NULL,
	"table" text NOT NULL,
	"minute" timestamp with time zone NOT NULL,
	"block" bigint NOT NULL,
	"min_id" bigint NOT NULL,
	"max_id" bigint NOT NULL,
	"min_lsn" "pg_lsn" NOT NULL,
	"max_lsn" "pg_lsn" NOT NULL,
	"min_at" timestamp (6) with time zone NOT NULL,
	"max_at" timestamp (6) with time zone NOT NULL,
	"creates" bigint NOT NULL,
	"updates" bigint NOT NULL,
	"deletes" bigint NOT NULL,
	"truncates" bigint NOT NULL,
	"fields" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "change_segments_source_id_schema_table_minute_block_pk" PRIMARY KEY("source_id","schema","table","minute","block")
);
--> statement-breakpoint
CREATE TABLE "trail_tables" (
	"source_id" uuid NOT NULL,
	"database" text NOT NULL,
	"schema" text NOT NULL,
	"table" text NOT NULL,
	CONSTRAINT "trail_tables_source_id_database_schema_table_pk" PRIMARY KEY("source_id","database","schema","table")
);
--> statement-breakpoint
DROP INDEX "changes_context";--> statement-breakpoint
CREATE INDEX "change_segments_max_id" ON "change_segments" USING btree ("max_id");--> statement-breakpoint
CREATE INDEX "change_segments_minute" ON "change_segments" USING btree ("minute");--> statement-breakpoint
CREATE INDEX "changes_context" ON "changes" USING gin ("context" jsonb_path_ops) WHERE "changes"."context" <> '{}'::jsonb;--> statement-breakpoint
-- Hand-written: summarise the changes stored before this migration (the worker summarises every store commit from
-- now on, lib/changes/segments.ts). The same aggregation as summarizeRowsSql there, blocks of 16384 ids.
INSERT INTO "trail_tables" ("source_id", "database", "schema", "table")
SELECT DISTINCT "source_id", "database", "schema", "table" FROM "changes";--> statement-breakpoint
INSERT INTO "change_segments" ("source_id", "schema", "table", "minute", "block", "min_id", "max_id", "min_lsn",
  "max_lsn", "min_at", "max_at", "creates", "updates", "deletes", "truncates", "fields")
SELECT g.*, coalesce(f.fields, '{}'::jsonb)
  FROM (SELECT "source_id", "schema", "table", date_trunc('minute', "committed_at", 'UTC') AS minute,
               "id" / 16384 AS block, min("id"), max("id"), min("commit_lsn"), max("commit_lsn"),
               min("committed_at"), max("committed_at"),
               count(*) FILTER (WHERE "operation" = 'CREATE'), count(*) FILTER (WHERE "operation" = 'UPDATE'),
               count(*) FILTER (WHERE "operation" = 'DELETE'), count(*) FILTER (WHERE "operation" = 'TRUNCATE')
          FROM "changes" GROUP BY 1, 2, 3, 4, 5) g
  LEFT JOIN (SELECT "source_id", "schema", "table", minute, block, jsonb_object_agg(field, n) AS fields
               FROM (SELECT "source_id", "schema", "table", date_trunc('minute', "committed_at", 'UTC') AS minute,
                            "id" / 16384 AS block, field, count(*) AS n
                       FROM "changes", unnest("changed_fields") AS field
                      WHERE "operation" = 'UPDATE'
                      GROUP BY 1, 2, 3, 4, 5, 6) per_field
              GROUP BY 1, 2, 3, 4, 5) f
    USING ("source_id", "schema", "table", minute, block);
