DROP INDEX "changes_environment_id";--> statement-breakpoint
DROP INDEX "changes_table_pk_id";--> statement-breakpoint
CREATE INDEX "changes_table_id" ON "changes" USING btree ("table","id");--> statement-breakpoint
CREATE INDEX "changes_primary_key" ON "changes" USING hash ("primary_key");