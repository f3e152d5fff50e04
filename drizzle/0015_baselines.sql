CREATE TYPE "public"."baseline_status" AS ENUM('pending', 'running', 'done', 'failed');--> statement-breakpoint
CREATE TABLE "baseline_rows" (
	"baseline_id" uuid NOT NULL,
	"primary_key" text NOT NULL,
	"image" json NOT NULL,
	"json_null_fields" text[],
	CONSTRAINT "baseline_rows_baseline_id_primary_key_pk" PRIMARY KEY("baseline_id","primary_key")
);
--> statement-breakpoint
CREATE TABLE "baselines" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source_id" uuid NOT NULL,
	"schema" text NOT NULL,
	"table" text NOT NULL,
	"status" "baseline_status" DEFAULT 'pending' NOT NULL,
	"consistent_lsn" "pg_lsn",
	"snapshot_at" timestamp (6) with time zone,
	"rows_estimated" bigint,
	"rows_copied" bigint DEFAULT 0 NOT NULL,
	"error" text,
	"requested_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"heartbeat_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "baseline_rows" ADD CONSTRAINT "baseline_rows_baseline_id_baselines_id_fk" FOREIGN KEY ("baseline_id") REFERENCES "public"."baselines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "baselines" ADD CONSTRAINT "baselines_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "baselines_source_table" ON "baselines" USING btree ("source_id","schema","table","created_at");