CREATE TABLE `agreements` (
	`id` text NOT NULL,
	`version` integer NOT NULL,
	`terms` text NOT NULL,
	`status` text NOT NULL,
	`officer` text NOT NULL,
	`decided_at` text NOT NULL,
	`signature` text,
	PRIMARY KEY(`id`, `version`)
);
--> statement-breakpoint
CREATE TABLE `local_state` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `seen_queries` (
	`id` text PRIMARY KEY NOT NULL,
	`requester` text NOT NULL,
	`day` text NOT NULL,
	`decision` text NOT NULL,
	`reason` text,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `seen_queries_requester_day` ON `seen_queries` (`requester`,`day`,`decision`);--> statement-breakpoint
ALTER TABLE `query_legs` ADD `pair` text;--> statement-breakpoint
ALTER TABLE `query_legs` ADD `agreement` text;--> statement-breakpoint
ALTER TABLE `query_legs` ADD `agreement_version` integer;--> statement-breakpoint
ALTER TABLE `query_legs` ADD `signed_epoch` text;