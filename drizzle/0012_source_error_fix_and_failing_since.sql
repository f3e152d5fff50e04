ALTER TABLE "sources" ADD COLUMN "last_error_fix" text;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "failing_since" timestamp with time zone;