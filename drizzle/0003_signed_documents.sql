CREATE TABLE `agreement_acceptances` (
	`agreement_id` text NOT NULL,
	`version` integer NOT NULL,
	`agency` text NOT NULL,
	`signature` blob NOT NULL,
	`accepted_at` text NOT NULL,
	PRIMARY KEY(`agreement_id`, `version`, `agency`)
);
--> statement-breakpoint
CREATE TABLE `agreement_rejections` (
	`agreement_id` text NOT NULL,
	`version` integer NOT NULL,
	`agency` text NOT NULL,
	`rejected_at` text NOT NULL,
	PRIMARY KEY(`agreement_id`, `version`, `agency`)
);
--> statement-breakpoint
CREATE TABLE `agreement_versions` (
	`agreement_id` text NOT NULL,
	`version` integer NOT NULL,
	`terms` text NOT NULL,
	`status` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`agreement_id`, `version`),
	FOREIGN KEY (`agreement_id`) REFERENCES `agreements`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `pair_epoch_keys` (
	`agency` text NOT NULL,
	`epoch` text NOT NULL,
	`pair_id` text NOT NULL,
	`agreement_id` text NOT NULL,
	`agreement_version` integer NOT NULL,
	`public_key` blob NOT NULL,
	`signature` blob NOT NULL,
	`published_at` text NOT NULL,
	PRIMARY KEY(`agency`, `epoch`, `pair_id`),
	FOREIGN KEY (`agency`) REFERENCES `agencies`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
ALTER TABLE `chunks` ADD `signature` blob;--> statement-breakpoint
ALTER TABLE `chunks` ADD `agreement_version` integer;--> statement-breakpoint
ALTER TABLE `queries` ADD `stated_at` text;--> statement-breakpoint
ALTER TABLE `query_legs` ADD `agreement_version` integer;--> statement-breakpoint
ALTER TABLE `query_legs` ADD `leg_epoch` text;--> statement-breakpoint
ALTER TABLE `query_legs` ADD `signature` blob;--> statement-breakpoint
ALTER TABLE `query_legs` ADD `refusal_reason` text;--> statement-breakpoint
ALTER TABLE `query_legs` ADD `refused_at` text;