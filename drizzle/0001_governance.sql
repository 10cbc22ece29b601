CREATE TABLE `audit_checkpoint` (
	`id` integer PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`hash` blob NOT NULL,
	`purged_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `carried_matches` (
	`pair_key` integer NOT NULL,
	`epoch` text NOT NULL,
	`pos_a` integer NOT NULL,
	`pos_b` integer NOT NULL,
	`handle` text NOT NULL,
	`first_seen` text NOT NULL,
	PRIMARY KEY(`pair_key`, `epoch`, `pos_a`, `pos_b`)
);
--> statement-breakpoint
CREATE TABLE `config` (
	`id` integer PRIMARY KEY NOT NULL,
	`purposes` text NOT NULL,
	`data_days` integer,
	`audit_days` integer NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `hit_status` (
	`handle` text NOT NULL,
	`agency` text NOT NULL,
	`status` text NOT NULL,
	`officer` text NOT NULL,
	`note` text,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`handle`, `agency`)
);
--> statement-breakpoint
CREATE TABLE `links` (
	`pair_key` integer NOT NULL,
	`epoch` text NOT NULL,
	`side` integer NOT NULL,
	`position` integer NOT NULL,
	`previous_epoch` text NOT NULL,
	`previous_position` integer NOT NULL,
	`linked_at` text NOT NULL,
	PRIMARY KEY(`pair_key`, `epoch`, `side`, `position`)
);
--> statement-breakpoint
CREATE TABLE `nightly_hits` (
	`pair_id` text NOT NULL,
	`handle` text NOT NULL,
	`epoch` text NOT NULL,
	`pos_a` integer NOT NULL,
	`pos_b` integer NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`pair_id`, `handle`)
);
--> statement-breakpoint
CREATE INDEX `nightly_hits_handle` ON `nightly_hits` (`handle`);--> statement-breakpoint
CREATE TABLE `queries` (
	`id` text PRIMARY KEY NOT NULL,
	`requester` text NOT NULL,
	`kind` text NOT NULL,
	`purpose` text NOT NULL,
	`case_ref` text NOT NULL,
	`officer` text NOT NULL,
	`n_values` integer NOT NULL,
	`epoch` text NOT NULL,
	`blinded` blob,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `queries_requester` ON `queries` (`requester`,`created_at`);--> statement-breakpoint
CREATE INDEX `queries_created` ON `queries` (`created_at`);--> statement-breakpoint
CREATE TABLE `query_hits` (
	`query_id` text NOT NULL,
	`partner` text NOT NULL,
	`idx` integer NOT NULL,
	`handle` text NOT NULL,
	`pair_id` text NOT NULL,
	`epoch` text NOT NULL,
	`position` integer,
	`created_at` text NOT NULL,
	PRIMARY KEY(`query_id`, `partner`, `idx`)
);
--> statement-breakpoint
CREATE INDEX `query_hits_partner` ON `query_hits` (`partner`);--> statement-breakpoint
CREATE INDEX `query_hits_handle` ON `query_hits` (`handle`);--> statement-breakpoint
CREATE TABLE `query_legs` (
	`query_id` text NOT NULL,
	`partner` text NOT NULL,
	`agreement_id` text NOT NULL,
	`pair_id` text NOT NULL,
	`created_at` text NOT NULL,
	`status` text NOT NULL,
	`answer_epoch` text,
	`evaluated` blob,
	`proof` blob,
	`proof_valid` integer,
	`answered_at` text,
	`outcome_at` text,
	`outcome_hits` integer,
	`outcome_no_hits` integer,
	`outcome_error` text,
	PRIMARY KEY(`query_id`, `partner`),
	FOREIGN KEY (`query_id`) REFERENCES `queries`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `query_legs_inbox` ON `query_legs` (`partner`,`status`,`created_at`);--> statement-breakpoint
CREATE TABLE `query_quota` (
	`agency` text NOT NULL,
	`agreement_id` text NOT NULL,
	`day` text NOT NULL,
	`used` integer NOT NULL,
	PRIMARY KEY(`agency`, `agreement_id`, `day`)
);
--> statement-breakpoint
ALTER TABLE `agreements` ADD `purposes` text DEFAULT '["terrorism","drug_trafficking","human_trafficking","cybercrime","money_laundering","organised_crime"]' NOT NULL;--> statement-breakpoint
ALTER TABLE `agreements` ADD `query_per_day` integer DEFAULT 50 NOT NULL;--> statement-breakpoint
ALTER TABLE `agreements` ADD `query_max_values` integer DEFAULT 100 NOT NULL;