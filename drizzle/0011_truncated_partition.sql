ALTER TABLE "changes" ADD COLUMN "partition_schema" text;--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "partition_table" text;