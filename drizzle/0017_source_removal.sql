CREATE TABLE "replica_identity_changes" (
	"source_id" uuid NOT NULL,
	"schema" text NOT NULL,
	"table" text NOT NULL,
	"previous" text NOT NULL,
	"identity_index" text,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "replica_identity_changes_source_id_schema_table_pk" PRIMARY KEY("source_id","schema","table")
);
--> statement-breakpoint
DROP INDEX "sources_system_database";--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "removed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "replica_identity_changes" ADD CONSTRAINT "replica_identity_changes_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "sources_system_database" ON "sources" USING btree ("system_identifier","database_oid") WHERE "sources"."removed_at" is null;