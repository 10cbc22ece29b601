CREATE TABLE `agencies` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`country` text NOT NULL,
	`signing_key` blob NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `agreements` (
	`id` text PRIMARY KEY NOT NULL,
	`parties` text NOT NULL,
	`kinds` text NOT NULL,
	`mode` text NOT NULL,
	`valid_from` text NOT NULL,
	`valid_until` text NOT NULL,
	`max_set_size` integer NOT NULL,
	`legal_basis` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `audit_log` (
	`seq` integer PRIMARY KEY NOT NULL,
	`at` text NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`subject` text NOT NULL,
	`outcome` text NOT NULL,
	`detail` text NOT NULL,
	`hash` blob NOT NULL
);
--> statement-breakpoint
CREATE TABLE `canaries` (
	`pair_key` integer NOT NULL,
	`epoch` text NOT NULL,
	`side` integer NOT NULL,
	`position` integer NOT NULL,
	`token` blob NOT NULL,
	`registered_at` text NOT NULL,
	PRIMARY KEY(`pair_key`, `epoch`, `side`, `position`)
);
--> statement-breakpoint
CREATE TABLE `chunks` (
	`pair_key` integer NOT NULL,
	`epoch` text NOT NULL,
	`side` integer NOT NULL,
	`idx` integer NOT NULL,
	`first_position` integer NOT NULL,
	`count` integer NOT NULL,
	`sha256` blob NOT NULL,
	`elements` blob NOT NULL,
	`created_at` text NOT NULL,
	`tokens_sha256` blob,
	`tokenized_at` text,
	PRIMARY KEY(`pair_key`, `epoch`, `side`, `idx`)
);
--> statement-breakpoint
CREATE TABLE `coordinator` (
	`id` integer PRIMARY KEY NOT NULL,
	`admin_key` blob NOT NULL,
	`handle_key` blob NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `epoch_keys` (
	`agency` text NOT NULL,
	`epoch` text NOT NULL,
	`public_key` blob NOT NULL,
	`published_at` text NOT NULL,
	PRIMARY KEY(`agency`, `epoch`),
	FOREIGN KEY (`agency`) REFERENCES `agencies`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `epochs` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`started_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `epochs_id_unique` ON `epochs` (`id`);--> statement-breakpoint
CREATE TABLE `handles` (
	`pair_key` integer NOT NULL,
	`epoch` text NOT NULL,
	`handle` text NOT NULL,
	`first_seen` text NOT NULL,
	PRIMARY KEY(`pair_key`, `epoch`, `handle`)
);
--> statement-breakpoint
CREATE TABLE `matches` (
	`pair_key` integer NOT NULL,
	`epoch` text NOT NULL,
	`pos_a` integer NOT NULL,
	`pos_b` integer NOT NULL,
	`handle` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`pair_key`, `epoch`, `pos_a`, `pos_b`)
);
--> statement-breakpoint
CREATE INDEX `matches_pos_b` ON `matches` (`pair_key`,`epoch`,`pos_b`);--> statement-breakpoint
CREATE TABLE `nonces` (
	`keyid` text NOT NULL,
	`nonce` text NOT NULL,
	`created` integer NOT NULL,
	PRIMARY KEY(`keyid`, `nonce`)
);
--> statement-breakpoint
CREATE INDEX `nonces_created` ON `nonces` (`created`);--> statement-breakpoint
CREATE TABLE `pair_state` (
	`pair_key` integer NOT NULL,
	`epoch` text NOT NULL,
	`state` text NOT NULL,
	`reason` text,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`pair_key`, `epoch`)
);
--> statement-breakpoint
CREATE TABLE `pairs` (
	`key` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`agreement_id` text NOT NULL,
	`agency_a` text NOT NULL,
	`agency_b` text NOT NULL,
	FOREIGN KEY (`agreement_id`) REFERENCES `agreements`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`agency_a`) REFERENCES `agencies`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`agency_b`) REFERENCES `agencies`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `pairs_id_unique` ON `pairs` (`id`);--> statement-breakpoint
CREATE INDEX `pairs_agency_a` ON `pairs` (`agency_a`);--> statement-breakpoint
CREATE INDEX `pairs_agency_b` ON `pairs` (`agency_b`);--> statement-breakpoint
CREATE TABLE `removals` (
	`pair_key` integer NOT NULL,
	`epoch` text NOT NULL,
	`side` integer NOT NULL,
	`position` integer NOT NULL,
	`removed_at` text NOT NULL,
	PRIMARY KEY(`pair_key`, `epoch`, `side`, `position`)
);
--> statement-breakpoint
CREATE TABLE `side_state` (
	`pair_key` integer NOT NULL,
	`epoch` text NOT NULL,
	`side` integer NOT NULL,
	`canaries_done_at` text,
	PRIMARY KEY(`pair_key`, `epoch`, `side`)
);
--> statement-breakpoint
CREATE TABLE `tokens` (
	`pair_key` integer NOT NULL,
	`epoch` text NOT NULL,
	`side` integer NOT NULL,
	`position` integer NOT NULL,
	`token` blob NOT NULL,
	`removed` integer DEFAULT 0 NOT NULL,
	`canary` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`pair_key`, `epoch`, `side`, `position`)
);
--> statement-breakpoint
CREATE INDEX `tokens_match` ON `tokens` (`pair_key`,`epoch`,`side`,`token`);