DROP INDEX "changes_context";--> statement-breakpoint
CREATE INDEX "changes_context" ON "changes" USING gin ("context") WHERE "changes"."context" <> '{}'::jsonb;