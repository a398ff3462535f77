CREATE TABLE `events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`instance_id` text,
	`testbed` text,
	`kind` text NOT NULL,
	`message` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_instance` ON `events` (`instance_id`);--> statement-breakpoint
CREATE INDEX `events_testbed_at` ON `events` (`testbed`,`at`);--> statement-breakpoint
CREATE TABLE `instances` (
	`id` text PRIMARY KEY NOT NULL,
	`testbed` text NOT NULL,
	`seq` integer NOT NULL,
	`target` text NOT NULL,
	`job` text,
	`worker_id` text NOT NULL,
	`state` text NOT NULL,
	`created_at` integer NOT NULL,
	`running_at` integer,
	`destroying_at` integer,
	`destroyed_at` integer,
	`updated_at` integer NOT NULL,
	`reason` text,
	`failure` text,
	`associated` integer DEFAULT false NOT NULL,
	`agent_pid` integer,
	`agent_pgid` integer,
	`agent_started_at` integer,
	`stop_outcome` text,
	`worker_deleted` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `instances_testbed_seq` ON `instances` (`testbed`,`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `instances_live_testbed` ON `instances` (`testbed`) WHERE state <> 'destroyed';--> statement-breakpoint
CREATE INDEX `instances_live_state` ON `instances` (`state`) WHERE state <> 'destroyed';--> statement-breakpoint
CREATE INDEX `instances_worker` ON `instances` (`worker_id`);--> statement-breakpoint
CREATE TABLE `testbeds` (
	`name` text PRIMARY KEY NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`health_check_due` integer DEFAULT false NOT NULL,
	`health_reason` text,
	`flagged_at` integer,
	`configured` integer DEFAULT true NOT NULL,
	`updated_at` integer NOT NULL
);
