-- Issue 16 (retention): `changes` becomes PARTITIONED BY RANGE (source_id, bucket, committed_at), so that expiry
-- drops whole partitions. Hand-written (drizzle cannot declare partitioning); lib/db/schema/changes.ts describes the
-- same columns and indexes. Converts an existing trail once: the old table is renamed, its rows go into monthly
-- partitions per source (keeping their ids), the identity sequence keeps its value, the old table is dropped.
ALTER TABLE "changes" RENAME TO "changes_unpartitioned";--> statement-breakpoint
ALTER SEQUENCE "changes_id_seq" RENAME TO "changes_unpartitioned_id_seq";--> statement-breakpoint
ALTER TABLE "changes_unpartitioned" DROP CONSTRAINT "changes_pkey";--> statement-breakpoint
DROP INDEX "changes_source_lsn_seq";--> statement-breakpoint
DROP INDEX "changes_table_id";--> statement-breakpoint
DROP INDEX "changes_primary_key";--> statement-breakpoint
DROP INDEX "changes_context";--> statement-breakpoint
CREATE TABLE "changes" (
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "changes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"source_id" uuid NOT NULL,
	"bucket" text DEFAULT '' NOT NULL,
	"environment" text NOT NULL,
	"database" text NOT NULL,
	"schema" text NOT NULL,
	"table" text NOT NULL,
	"primary_key" text,
	"operation" "operation" NOT NULL,
	"before" json,
	"after" json,
	"changed_fields" text[],
	"unavailable_fields" text[],
	"before_json_null_fields" text[],
	"after_json_null_fields" text[],
	"partition_schema" text,
	"partition_table" text,
	"context" jsonb,
	"transaction_id" bigint NOT NULL,
	"commit_lsn" "pg_lsn" NOT NULL,
	"seq" integer NOT NULL,
	"committed_at" timestamp (6) with time zone NOT NULL,
	"queued_at" timestamp (6) with time zone NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL
) PARTITION BY RANGE ("source_id", "bucket", "committed_at");--> statement-breakpoint
CREATE TABLE "changes_default" PARTITION OF "changes" DEFAULT;--> statement-breakpoint
SELECT setval('changes_id_seq', last_value, is_called) FROM "changes_unpartitioned_id_seq";--> statement-breakpoint
-- One partition per source and UTC month holding old rows (no retention rule exists yet: forever = a month).
-- Names as lib/retention/partition-names.ts makes them.
DO $$
DECLARE
	span record;
	partition_name text;
BEGIN
	FOR span IN
		SELECT DISTINCT source_id, date_trunc('month', committed_at, 'UTC') AS from_at
		FROM "changes_unpartitioned"
	LOOP
		partition_name := format('changes_%s_s_%s', left(replace(span.source_id::text, '-', ''), 12),
			to_char(span.from_at AT TIME ZONE 'UTC', 'YYYYMMDD'));
		-- Two sources whose ids start alike: the second's name also carries a hash of its id.
		IF to_regclass(format('%I', partition_name)) IS NOT NULL THEN
			partition_name := partition_name || '_' || left(md5(span.source_id::text), 6);
		END IF;
		EXECUTE format('CREATE TABLE %I PARTITION OF "changes" FOR VALUES FROM (%L, %L, %L) TO (%L, %L, %L)',
			partition_name, span.source_id, '', span.from_at,
			span.source_id, '', (span.from_at AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC');
		INSERT INTO "trail_partitions" ("name", "source_id", "bucket", "from_at", "to_at")
		VALUES (partition_name, span.source_id, '', span.from_at,
			(span.from_at AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC');
	END LOOP;
END $$;--> statement-breakpoint
INSERT INTO "changes" ("id", "source_id", "bucket", "environment", "database", "schema", "table", "primary_key",
	"operation", "before", "after", "changed_fields", "unavailable_fields", "before_json_null_fields",
	"after_json_null_fields", "partition_schema", "partition_table", "context", "transaction_id", "commit_lsn", "seq",
	"committed_at", "queued_at", "created_at")
OVERRIDING SYSTEM VALUE
SELECT "id", "source_id", '', "environment", "database", "schema", "table", "primary_key", "operation", "before",
	"after", "changed_fields", "unavailable_fields", "before_json_null_fields", "after_json_null_fields",
	"partition_schema", "partition_table", "context", "transaction_id", "commit_lsn", "seq", "committed_at",
	"queued_at", "created_at"
FROM "changes_unpartitioned";--> statement-breakpoint
DROP TABLE "changes_unpartitioned";--> statement-breakpoint
ALTER TABLE "changes" ADD CONSTRAINT "changes_pkey" PRIMARY KEY("id","source_id","bucket","committed_at");--> statement-breakpoint
CREATE UNIQUE INDEX "changes_source_lsn_seq" ON "changes" USING btree ("source_id","commit_lsn","seq","bucket","committed_at");--> statement-breakpoint
CREATE INDEX "changes_table_id" ON "changes" USING btree ("table","id") WITH (deduplicate_items=false);--> statement-breakpoint
CREATE INDEX "changes_primary_key" ON "changes" USING hash ("primary_key");--> statement-breakpoint
CREATE INDEX "changes_context" ON "changes" USING gin ("context" jsonb_path_ops) WHERE "changes"."context" <> '{}'::jsonb;--> statement-breakpoint
-- Seals record where their change is stored, so verify can tell an expired change from a removed one.
ALTER TABLE "change_seals" ADD COLUMN "committed_at" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "change_seals" ADD COLUMN "bucket" text;--> statement-breakpoint
UPDATE "change_seals" s SET "committed_at" = c."committed_at", "bucket" = c."bucket"
FROM "changes" c WHERE c."id" = s."change_id" AND c."source_id" = s."source_id";--> statement-breakpoint
-- A sealed change already gone from the trail: no expiry can cover -infinity, so verify still reports it removed.
UPDATE "change_seals" SET "committed_at" = '-infinity', "bucket" = '' WHERE "committed_at" IS NULL;--> statement-breakpoint
ALTER TABLE "change_seals" ALTER COLUMN "committed_at" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "change_seals" ALTER COLUMN "bucket" SET NOT NULL;
