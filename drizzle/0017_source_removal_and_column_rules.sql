DROP INDEX "sources_system_database";--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "column_rules" jsonb DEFAULT '{"rules":[],"skipExcludedOnlyUpdates":false}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "removed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tracked_tables" ADD COLUMN "original_identities" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "sources_system_database" ON "sources" USING btree ("system_identifier","database_oid") WHERE "sources"."removed_at" is null;