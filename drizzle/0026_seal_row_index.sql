ALTER TABLE "change_seals" ADD COLUMN "schema" text;--> statement-breakpoint
ALTER TABLE "change_seals" ADD COLUMN "operation" text;--> statement-breakpoint
-- Hand-written: the changes sealed before this migration get their schema and operation from the trail (one pass over
-- both tables, before the index exists); those whose change has expired keep nulls, and time travel never asks for them.
UPDATE "change_seals" s SET "schema" = c."schema", "operation" = c."operation"::text
  FROM "changes" c WHERE c."id" = s."change_id" AND c."source_id" = s."source_id";--> statement-breakpoint
CREATE INDEX "change_seals_row" ON "change_seals" USING btree ("source_id","schema","table","primary_key","change_id","operation","committed_at");