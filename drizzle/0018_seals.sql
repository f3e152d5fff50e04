CREATE TABLE "change_seals" (
	"source_id" uuid NOT NULL,
	"position" bigint NOT NULL,
	"change_id" bigint NOT NULL,
	"commit_lsn" "pg_lsn" NOT NULL,
	"seq" integer NOT NULL,
	"table" text NOT NULL,
	"primary_key" text,
	"digest" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "change_seals_source_id_position_pk" PRIMARY KEY("source_id","position")
);
--> statement-breakpoint
CREATE TABLE "seal_checkpoints" (
	"source_id" uuid NOT NULL,
	"position" bigint NOT NULL,
	"change_id" bigint NOT NULL,
	"commit_lsn" "pg_lsn" NOT NULL,
	"seq" integer NOT NULL,
	"committed_at" timestamp (6) with time zone NOT NULL,
	"hash" text NOT NULL,
	"signature" text NOT NULL,
	"sealed_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "seal_checkpoints_source_id_position_pk" PRIMARY KEY("source_id","position")
);
--> statement-breakpoint
CREATE INDEX "seal_checkpoints_committed_at" ON "seal_checkpoints" USING btree ("source_id","committed_at");