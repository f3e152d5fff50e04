ALTER TABLE "change_seals" ADD COLUMN "schema" text;--> statement-breakpoint
ALTER TABLE "change_seals" ADD COLUMN "operation" text;--> statement-breakpoint
CREATE INDEX "change_seals_row" ON "change_seals" USING btree ("source_id","schema","table","primary_key","change_id","operation","committed_at");