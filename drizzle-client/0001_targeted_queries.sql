CREATE TABLE `hit_status` (
	`handle` text PRIMARY KEY NOT NULL,
	`pair` text NOT NULL,
	`partner` text NOT NULL,
	`source` text NOT NULL,
	`status` text NOT NULL,
	`my_status` text,
	`partner_status` text,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `partner_tokens` (
	`pair` text NOT NULL,
	`epoch` text NOT NULL,
	`position` integer NOT NULL,
	`chunk` integer NOT NULL,
	`token` blob NOT NULL,
	PRIMARY KEY(`pair`, `epoch`, `position`)
);
--> statement-breakpoint
CREATE INDEX `partner_tokens_token` ON `partner_tokens` (`token`);--> statement-breakpoint
CREATE TABLE `queries` (
	`id` text PRIMARY KEY NOT NULL,
	`created_at` text NOT NULL,
	`kind` text NOT NULL,
	`purpose` text NOT NULL,
	`case_ref` text NOT NULL,
	`officer` text NOT NULL,
	`values_count` integer NOT NULL,
	`blinds` blob,
	`blinded` blob,
	`closed_at` text
);
--> statement-breakpoint
CREATE TABLE `query_legs` (
	`query_id` text NOT NULL,
	`partner` text NOT NULL,
	`state` text NOT NULL,
	`epoch` text,
	`error` text,
	`detail` text,
	`outcome_sent` integer DEFAULT false NOT NULL,
	`finished_at` text,
	PRIMARY KEY(`query_id`, `partner`),
	FOREIGN KEY (`query_id`) REFERENCES `queries`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `query_results` (
	`query_id` text NOT NULL,
	`partner` text NOT NULL,
	`value_index` integer NOT NULL,
	`hit` integer NOT NULL,
	`handle` text,
	PRIMARY KEY(`query_id`, `partner`, `value_index`)
);
--> statement-breakpoint
ALTER TABLE `partner_chunks` ADD `tokens_kept` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `sides` ADD `links_sent` integer DEFAULT false NOT NULL;