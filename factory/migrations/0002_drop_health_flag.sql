ALTER TABLE `testbeds` DROP COLUMN `health_check_due`;--> statement-breakpoint
ALTER TABLE `testbeds` DROP COLUMN `flagged_at`;