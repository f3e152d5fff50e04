CREATE TABLE "retention_rules" (
	"environment" text NOT NULL,
	"table" text DEFAULT '' NOT NULL,
	"days" integer,
	"archive" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by" text,
	CONSTRAINT "retention_rules_environment_table_pk" PRIMARY KEY("environment","table")
);
--> statement-breakpoint
CREATE TABLE "trail_expiries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "trail_expiries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"partition" text NOT NULL,
	"source_id" uuid NOT NULL,
	"bucket" text NOT NULL,
	"from_at" timestamp with time zone NOT NULL,
	"to_at" timestamp with time zone NOT NULL,
	"changes" bigint NOT NULL,
	"min_change_id" bigint,
	"max_change_id" bigint,
	"archive_location" text,
	"dropped_at" timestamp with time zone DEFAULT now() NOT NULL,
	"signature" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trail_partitions" (
	"name" text PRIMARY KEY NOT NULL,
	"source_id" uuid NOT NULL,
	"bucket" text NOT NULL,
	"from_at" timestamp with time zone NOT NULL,
	"to_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
