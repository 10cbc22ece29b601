CREATE TABLE `pair_hits_due` (
	`pair_key` integer NOT NULL,
	`epoch` text NOT NULL,
	`mark` integer NOT NULL,
	PRIMARY KEY(`pair_key`, `epoch`)
);
--> statement-breakpoint
CREATE TABLE `pair_outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`pair_key` integer NOT NULL,
	`entry` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `pair_outbox_pair` ON `pair_outbox` (`pair_key`);--> statement-breakpoint
ALTER TABLE `audit_log` ADD `origin` text;--> statement-breakpoint
CREATE UNIQUE INDEX `audit_log_origin` ON `audit_log` (`origin`);