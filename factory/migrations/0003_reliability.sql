ALTER TABLE `locks` ADD `restore_on_release` integer DEFAULT true NOT NULL;--> statement-breakpoint
CREATE INDEX `instances_job` ON `instances` (`job`);