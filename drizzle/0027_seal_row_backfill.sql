CREATE TABLE "seal_row_backfill" (
	"source_id" uuid PRIMARY KEY NOT NULL,
	"pending_to" bigint NOT NULL
);
--> statement-breakpoint
-- Hand-written: the seals written before 0026 get their schema and operation from the worker, in batches beside its
-- other work (lib/seals/backfill.ts), not here: filling them in one UPDATE held a store's start-up for ~19 s per
-- million seals and left the table twice its size.
INSERT INTO "seal_row_backfill" ("source_id", "pending_to")
SELECT "source_id", max("position") FROM "change_seals" WHERE "schema" IS NULL GROUP BY "source_id";
