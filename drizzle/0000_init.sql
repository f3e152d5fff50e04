CREATE TYPE "public"."user_role" AS ENUM('admin', 'viewer');--> statement-breakpoint
CREATE TYPE "public"."source_status" AS ENUM('pending', 'streaming', 'error', 'paused');--> statement-breakpoint
CREATE TYPE "public"."ssl_mode" AS ENUM('disable', 'prefer', 'require', 'verify-full');--> statement-breakpoint
CREATE TYPE "public"."operation" AS ENUM('CREATE', 'UPDATE', 'DELETE', 'TRUNCATE');--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"password_hash" text NOT NULL,
	"role" "user_role" DEFAULT 'viewer' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_email_unique" UNIQUE("email")
);
--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "api_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "sources" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"host" text NOT NULL,
	"port" integer NOT NULL,
	"database" text NOT NULL,
	"username" text NOT NULL,
	"password_encrypted" text NOT NULL,
	"ssl_mode" "ssl_mode" DEFAULT 'prefer' NOT NULL,
	"environment" text NOT NULL,
	"slot_name" text NOT NULL,
	"publication_name" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"track_new_tables" boolean DEFAULT false NOT NULL,
	"status" "source_status" DEFAULT 'pending' NOT NULL,
	"last_error" text,
	"checkpoint_lsn" "pg_lsn",
	"last_change_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sources_slot_name_unique" UNIQUE("slot_name")
);
--> statement-breakpoint
CREATE TABLE "tracked_tables" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source_id" uuid NOT NULL,
	"schema" text NOT NULL,
	"table" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "changes" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "changes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"source_id" uuid NOT NULL,
	"environment" text NOT NULL,
	"database" text NOT NULL,
	"schema" text NOT NULL,
	"table" text NOT NULL,
	"primary_key" text,
	"operation" "operation" NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"changed_fields" text[],
	"context" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"transaction_id" bigint NOT NULL,
	"commit_lsn" "pg_lsn" NOT NULL,
	"seq" integer NOT NULL,
	"committed_at" timestamp (6) with time zone NOT NULL,
	"queued_at" timestamp (6) with time zone NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tracked_tables" ADD CONSTRAINT "tracked_tables_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "changes" ADD CONSTRAINT "changes_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "tracked_tables_source_table" ON "tracked_tables" USING btree ("source_id","schema","table");--> statement-breakpoint
CREATE UNIQUE INDEX "changes_source_lsn_seq" ON "changes" USING btree ("source_id","commit_lsn","seq");--> statement-breakpoint
CREATE INDEX "changes_environment_id" ON "changes" USING btree ("environment","id");--> statement-breakpoint
CREATE INDEX "changes_source_id" ON "changes" USING btree ("source_id","id");--> statement-breakpoint
CREATE INDEX "changes_table_pk_id" ON "changes" USING btree ("table","primary_key","id");--> statement-breakpoint
CREATE INDEX "changes_operation_id" ON "changes" USING btree ("operation","id");--> statement-breakpoint
CREATE INDEX "changes_context" ON "changes" USING gin ("context");