CREATE TABLE `desired` (
	`miner_id` text PRIMARY KEY NOT NULL,
	`mode` text,
	`paused` integer,
	`pool_ids` text,
	`updated_at` text NOT NULL,
	`updated_by` text
);
--> statement-breakpoint
CREATE TABLE `events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` text NOT NULL,
	`miner_id` text,
	`kind` text NOT NULL,
	`level` text NOT NULL,
	`message` text NOT NULL,
	`actor` text,
	`data` text
);
--> statement-breakpoint
CREATE INDEX `events_miner` ON `events` (`miner_id`,`id`);--> statement-breakpoint
CREATE INDEX `events_kind` ON `events` (`kind`,`id`);--> statement-breakpoint
CREATE TABLE `miner_state` (
	`miner_id` text PRIMARY KEY NOT NULL,
	`status` text DEFAULT 'unknown' NOT NULL,
	`missed` integer DEFAULT 0 NOT NULL,
	`last_seen_at` integer,
	`last` text,
	`last_error` text
);
--> statement-breakpoint
CREATE TABLE `miners` (
	`id` text PRIMARY KEY NOT NULL,
	`driver` text NOT NULL,
	`address` text NOT NULL,
	`options` text DEFAULT '{}' NOT NULL,
	`model` text,
	`expected_hashrate_ghs` real,
	`location` text,
	`tags` text DEFAULT '[]' NOT NULL,
	`poll_interval_ms` integer,
	`source` text NOT NULL,
	`testbed` text,
	`hardware` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `pool_assignments` (
	`scope_kind` text NOT NULL,
	`scope_value` text NOT NULL,
	`pool_ids` text NOT NULL,
	`seq` integer NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`scope_kind`, `scope_value`)
);
--> statement-breakpoint
CREATE TABLE `pools` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`url` text NOT NULL,
	`port` integer NOT NULL,
	`user` text NOT NULL,
	`password` text,
	`tls` integer DEFAULT false NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `samples` (
	`miner_id` text NOT NULL,
	`at` integer NOT NULL,
	`online` integer NOT NULL,
	`hashrate_ghs` real,
	`power_w` real,
	`efficiency_jth` real,
	`temperatures` text,
	`fan_rpm` real,
	`fan_percent` real,
	`shares_accepted` integer,
	`shares_rejected` integer,
	PRIMARY KEY(`miner_id`, `at`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `samples_hour` (
	`miner_id` text NOT NULL,
	`t` integer NOT NULL,
	`n` integer NOT NULL,
	`hr_n` integer DEFAULT 0 NOT NULL,
	`hr_sum` real,
	`hr_min` real,
	`hr_max` real,
	`pw_n` integer DEFAULT 0 NOT NULL,
	`pw_sum` real,
	`pw_min` real,
	`pw_max` real,
	`ef_n` integer DEFAULT 0 NOT NULL,
	`ef_sum` real,
	`ef_min` real,
	`ef_max` real,
	`rpm_n` integer DEFAULT 0 NOT NULL,
	`rpm_sum` real,
	`rpm_min` real,
	`rpm_max` real,
	`pct_n` integer DEFAULT 0 NOT NULL,
	`pct_sum` real,
	`pct_min` real,
	`pct_max` real,
	`temperatures` text,
	PRIMARY KEY(`miner_id`, `t`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `samples_minute` (
	`miner_id` text NOT NULL,
	`t` integer NOT NULL,
	`n` integer NOT NULL,
	`hr_n` integer DEFAULT 0 NOT NULL,
	`hr_sum` real,
	`hr_min` real,
	`hr_max` real,
	`pw_n` integer DEFAULT 0 NOT NULL,
	`pw_sum` real,
	`pw_min` real,
	`pw_max` real,
	`ef_n` integer DEFAULT 0 NOT NULL,
	`ef_sum` real,
	`ef_min` real,
	`ef_max` real,
	`rpm_n` integer DEFAULT 0 NOT NULL,
	`rpm_sum` real,
	`rpm_min` real,
	`rpm_max` real,
	`pct_n` integer DEFAULT 0 NOT NULL,
	`pct_sum` real,
	`pct_min` real,
	`pct_max` real,
	`temperatures` text,
	PRIMARY KEY(`miner_id`, `t`)
) WITHOUT ROWID;
