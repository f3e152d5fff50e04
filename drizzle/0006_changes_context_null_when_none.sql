ALTER TABLE "changes" ALTER COLUMN "context" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "changes" ALTER COLUMN "context" DROP NOT NULL;