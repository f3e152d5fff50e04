ALTER TABLE "sources" ADD COLUMN "lag_bytes" bigint;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "lag_seconds" double precision;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "lag_measured_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "changes" ADD COLUMN "unavailable_fields" text[];