ALTER TABLE "changes" DROP CONSTRAINT "changes_pkey";--> statement-breakpoint
CREATE INDEX "changes_id" ON "changes" USING btree ("id") WITH (deduplicate_items=false);