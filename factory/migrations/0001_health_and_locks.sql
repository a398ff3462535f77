CREATE TABLE `api_users` (
	`name` text PRIMARY KEY NOT NULL,
	`token_hash` text NOT NULL,
	`admin` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_users_token_hash_unique` ON `api_users` (`token_hash`);--> statement-breakpoint
CREATE TABLE `locks` (
	`testbed` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`holder` text NOT NULL,
	`owner` text NOT NULL,
	`reason` text,
	`acquired_at` integer NOT NULL,
	`renewed_at` integer,
	`expires_at` integer
);
--> statement-breakpoint
CREATE INDEX `locks_expires` ON `locks` (`expires_at`) WHERE expires_at IS NOT NULL;--> statement-breakpoint
CREATE TABLE `requirement_targets` (
	`name` text PRIMARY KEY NOT NULL,
	`target_id` text NOT NULL,
	`requirement` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `instances` ADD `infra_checked` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `instances` ADD `restore_outcome` text;--> statement-breakpoint
ALTER TABLE `testbeds` ADD `health` text DEFAULT 'unknown' NOT NULL;--> statement-breakpoint
ALTER TABLE `testbeds` ADD `health_changed_at` integer;--> statement-breakpoint
ALTER TABLE `testbeds` ADD `check_failures` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `testbeds` ADD `last_check_at` integer;--> statement-breakpoint
ALTER TABLE `testbeds` ADD `next_check_at` integer;--> statement-breakpoint
ALTER TABLE `testbeds` ADD `unavailable` text;--> statement-breakpoint
ALTER TABLE `testbeds` ADD `unavailable_since` integer;--> statement-breakpoint
-- Data: a testbed flagged for a health check is `unknown`; one that was not had been taking jobs, so it stays `good`.
UPDATE `testbeds` SET `health` = CASE WHEN `health_check_due` THEN 'unknown' ELSE 'good' END, `health_changed_at` = coalesce(`flagged_at`, `updated_at`);--> statement-breakpoint
-- Data: every live instance holds its testbed through the lock table from now on.
INSERT INTO `locks` (`testbed`, `kind`, `holder`, `owner`, `reason`, `acquired_at`) SELECT `testbed`, 'job', `id`, 'factory', 'instance ' || `id`, `created_at` FROM `instances` WHERE `state` <> 'destroyed';--> statement-breakpoint
UPDATE `instances` SET `infra_checked` = true, `restore_outcome` = 'skipped: ended before baseline restore existed' WHERE `state` = 'destroyed';
