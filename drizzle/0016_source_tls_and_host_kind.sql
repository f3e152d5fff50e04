ALTER TABLE "sources" ADD COLUMN "ssl_root_cert" text;--> statement-breakpoint
ALTER TABLE "sources" ADD COLUMN "host_kind" text;