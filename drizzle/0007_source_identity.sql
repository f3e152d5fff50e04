ALTER TABLE "sources" ADD COLUMN "system_identifier" text;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "database_oid" bigint;--> statement-breakpoint
CREATE UNIQUE INDEX "sources_system_database" ON "sources" USING btree ("system_identifier","database_oid");