CREATE TABLE "source_relations" (
	"source_id" uuid NOT NULL,
	"relation_oid" bigint NOT NULL,
	"schema" text NOT NULL,
	"table" text NOT NULL,
	"key_indexes" jsonb NOT NULL,
	"generated_columns" text[] NOT NULL,
	"root_schema" text,
	"root_table" text,
	"root_columns" text[],
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "source_relations_source_id_relation_oid_pk" PRIMARY KEY("source_id","relation_oid")
);
--> statement-breakpoint
ALTER TABLE "source_relations" ADD CONSTRAINT "source_relations_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE cascade ON UPDATE no action;