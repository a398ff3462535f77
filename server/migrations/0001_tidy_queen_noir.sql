CREATE INDEX `workers_token` ON `workers` (`token_hash`);--> statement-breakpoint
CREATE INDEX `workers_bootstrap` ON `workers` (`bootstrap`);