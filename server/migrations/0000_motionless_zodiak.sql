CREATE TABLE `chunks` (
	`id` text PRIMARY KEY NOT NULL,
	`job` text NOT NULL,
	`size` integer NOT NULL,
	`time_create` integer NOT NULL,
	FOREIGN KEY (`job`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `chunks_job` ON `chunks` (`job`);--> statement-breakpoint
CREATE TABLE `events` (
	`job` text NOT NULL,
	`seq` integer NOT NULL,
	`task` integer,
	`stream` text NOT NULL,
	`time` integer NOT NULL,
	`time_remote` integer,
	`payload` text NOT NULL,
	PRIMARY KEY(`job`, `seq`),
	FOREIGN KEY (`job`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `factories` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`enable` integer DEFAULT true NOT NULL,
	`hold_workers` integer DEFAULT false NOT NULL,
	`last_ping` integer,
	`time_create` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `factories_token` ON `factories` (`token_hash`);--> statement-breakpoint
CREATE TABLE `inputs` (
	`id` text PRIMARY KEY NOT NULL,
	`job` text NOT NULL,
	`name` text NOT NULL,
	`size` integer NOT NULL,
	`commit_id` text NOT NULL,
	`time_create` integer NOT NULL,
	FOREIGN KEY (`job`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `inputs_job_name` ON `inputs` (`job`,`name`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`name` text NOT NULL,
	`target` text NOT NULL,
	`target_id` text NOT NULL,
	`output_rules` text NOT NULL,
	`tags` text NOT NULL,
	`input_names` text NOT NULL,
	`waiting` integer NOT NULL,
	`complete` integer DEFAULT false NOT NULL,
	`failed` integer DEFAULT false NOT NULL,
	`cancelled` integer DEFAULT false NOT NULL,
	`worker` text,
	`event_seq` integer DEFAULT 0 NOT NULL,
	`time_submit` integer NOT NULL,
	`time_ready` integer,
	`time_assigned` integer,
	`time_complete` integer,
	FOREIGN KEY (`owner`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`target_id`) REFERENCES `targets`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `jobs_pending` ON `jobs` (`complete`,`waiting`,`worker`);--> statement-breakpoint
CREATE INDEX `jobs_owner` ON `jobs` (`owner`);--> statement-breakpoint
CREATE TABLE `outputs` (
	`id` text PRIMARY KEY NOT NULL,
	`job` text NOT NULL,
	`path` text NOT NULL,
	`size` integer NOT NULL,
	`commit_id` text NOT NULL,
	`time_create` integer NOT NULL,
	FOREIGN KEY (`job`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outputs_job_commit` ON `outputs` (`job`,`commit_id`);--> statement-breakpoint
CREATE INDEX `outputs_job` ON `outputs` (`job`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `targets` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`desc` text NOT NULL,
	`redirect` text,
	`privilege` text,
	`time_create` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `targets_name` ON `targets` (`name`);--> statement-breakpoint
CREATE TABLE `tasks` (
	`job` text NOT NULL,
	`seq` integer NOT NULL,
	`name` text NOT NULL,
	`script` text NOT NULL,
	`env_clear` integer NOT NULL,
	`env` text NOT NULL,
	`uid` integer,
	`gid` integer,
	`workdir` text,
	`complete` integer DEFAULT false NOT NULL,
	`failed` integer DEFAULT false NOT NULL,
	PRIMARY KEY(`job`, `seq`),
	FOREIGN KEY (`job`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`privileges` text DEFAULT '[]' NOT NULL,
	`time_create` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_name` ON `users` (`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `users_token` ON `users` (`token_hash`);--> statement-breakpoint
CREATE TABLE `workers` (
	`id` text PRIMARY KEY NOT NULL,
	`factory` text NOT NULL,
	`target` text NOT NULL,
	`bootstrap` text NOT NULL,
	`token_hash` text,
	`private` text,
	`ip` text,
	`metadata` text,
	`lease_job` text,
	`wait_for_flush` integer NOT NULL,
	`flushed` integer DEFAULT false NOT NULL,
	`recycle` integer DEFAULT false NOT NULL,
	`deleted` integer DEFAULT false NOT NULL,
	`hold` integer DEFAULT false NOT NULL,
	`job` text,
	`time_create` integer NOT NULL,
	`time_bootstrap` integer,
	`last_ping` integer,
	FOREIGN KEY (`factory`) REFERENCES `factories`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`target`) REFERENCES `targets`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `workers_factory` ON `workers` (`factory`);--> statement-breakpoint
CREATE INDEX `workers_live` ON `workers` (`deleted`,`recycle`,`job`);