CREATE TABLE `price_source_status` (
	`source` text PRIMARY KEY NOT NULL,
	`last_success_at` integer,
	`last_attempt_at` integer,
	`last_error` text,
	`stale` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE `prices` (
	`start` integer PRIMARY KEY NOT NULL,
	`end` integer NOT NULL,
	`price_inc_vat` real NOT NULL,
	`price_exc_vat` real,
	`source` text NOT NULL,
	`fetched_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `rule_state` (
	`rule_id` integer NOT NULL,
	`miner_id` text NOT NULL,
	`wanting` integer DEFAULT false NOT NULL,
	`applied` integer DEFAULT false NOT NULL,
	`last_change_at` integer,
	`undo` text,
	`last_note` text,
	PRIMARY KEY(`rule_id`, `miner_id`),
	FOREIGN KEY (`rule_id`) REFERENCES `rules`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `rules` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`priority` integer DEFAULT 0 NOT NULL,
	`trigger` text NOT NULL,
	`conditions` text NOT NULL,
	`action` text NOT NULL,
	`undo_action` text,
	`until` integer DEFAULT false NOT NULL,
	`cooldown_ms` integer DEFAULT 0 NOT NULL,
	`hysteresis` real DEFAULT 0 NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`updated_by` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `rules_name_unique` ON `rules` (`name`);