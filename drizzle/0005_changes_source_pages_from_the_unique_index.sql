DROP INDEX "changes_source_id";--> statement-breakpoint
ALTER INDEX "changes_table_id" SET (deduplicate_items = false);
