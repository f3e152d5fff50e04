CREATE TABLE "trail_holds" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source_id" uuid NOT NULL,
	"from_at" timestamp with time zone NOT NULL,
	"to_at" timestamp with time zone NOT NULL,
	"reason" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"released_at" timestamp with time zone,
	"released_by" text,
	CONSTRAINT "trail_holds_span" CHECK ("trail_holds"."from_at" < "trail_holds"."to_at"),
	CONSTRAINT "trail_holds_reason" CHECK (length("trail_holds"."reason") between 1 and 500)
);
--> statement-breakpoint
ALTER TABLE "trail_holds" ADD CONSTRAINT "trail_holds_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "trail_holds_active" ON "trail_holds" USING btree ("source_id","from_at") WHERE "trail_holds"."released_at" is null;