ALTER TABLE "changes" ADD COLUMN "before_json_null_fields" text[];--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "after_json_null_fields" text[];