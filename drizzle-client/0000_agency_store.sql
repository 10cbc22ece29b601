CREATE TABLE `chunks` (
	`pair` text NOT NULL,
	`epoch` text NOT NULL,
	`idx` integer NOT NULL,
	`first_position` integer NOT NULL,
	`count` integer NOT NULL,
	`sha256` text NOT NULL,
	`data` blob NOT NULL,
	`uploaded` integer DEFAULT false NOT NULL,
	PRIMARY KEY(`pair`, `epoch`, `idx`)
);
--> statement-breakpoint
CREATE TABLE `identifiers` (
	`record_id` text NOT NULL,
	`kind` text NOT NULL,
	`canonical` text NOT NULL,
	PRIMARY KEY(`record_id`, `kind`, `canonical`)
);
--> statement-breakpoint
CREATE INDEX `identifiers_kind_canonical` ON `identifiers` (`kind`,`canonical`);--> statement-breakpoint
CREATE TABLE `imports` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`file` text NOT NULL,
	`imported_at` text NOT NULL,
	`rows` integer NOT NULL,
	`rejected` integer NOT NULL,
	`identifiers` integer NOT NULL,
	`records` integer NOT NULL,
	`added` integer NOT NULL,
	`withdrawn` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `matches` (
	`pair` text NOT NULL,
	`partner` text NOT NULL,
	`epoch` text NOT NULL,
	`position` integer NOT NULL,
	`record_id` text NOT NULL,
	`kind` text NOT NULL,
	`handle` text NOT NULL,
	`first_seen` text NOT NULL,
	PRIMARY KEY(`pair`, `position`, `record_id`)
);
--> statement-breakpoint
CREATE INDEX `matches_partner_record` ON `matches` (`partner`,`record_id`);--> statement-breakpoint
CREATE TABLE `pair_results` (
	`pair` text PRIMARY KEY NOT NULL,
	`agreement` text NOT NULL,
	`partner` text NOT NULL,
	`mode` text NOT NULL,
	`epoch` text NOT NULL,
	`state` text NOT NULL,
	`reason` text,
	`count` integer,
	`updated_at` text NOT NULL,
	`completed_at` text
);
--> statement-breakpoint
CREATE TABLE `partner_chunks` (
	`pair` text NOT NULL,
	`epoch` text NOT NULL,
	`idx` integer NOT NULL,
	`count` integer NOT NULL,
	`sha256` text NOT NULL,
	`tokenized_at` text NOT NULL,
	PRIMARY KEY(`pair`, `epoch`, `idx`)
);
--> statement-breakpoint
CREATE TABLE `positions` (
	`pair` text NOT NULL,
	`epoch` text NOT NULL,
	`position` integer NOT NULL,
	`chunk` integer NOT NULL,
	`kind` text,
	`canonical` text,
	`canary_r` blob,
	`removed` integer DEFAULT false NOT NULL,
	`removal_sent` integer DEFAULT false NOT NULL,
	PRIMARY KEY(`pair`, `epoch`, `position`)
);
--> statement-breakpoint
CREATE INDEX `positions_identifier` ON `positions` (`pair`,`epoch`,`kind`,`canonical`);--> statement-breakpoint
CREATE INDEX `positions_epoch_identifier` ON `positions` (`epoch`,`kind`,`canonical`);--> statement-breakpoint
CREATE INDEX `positions_pending_removal` ON `positions` (`pair`,`epoch`,`removed`,`removal_sent`);--> statement-breakpoint
CREATE TABLE `sides` (
	`pair` text NOT NULL,
	`epoch` text NOT NULL,
	`agreement` text NOT NULL,
	`partner` text NOT NULL,
	`created_at` text NOT NULL,
	`canaries` integer NOT NULL,
	`canary_partner_key` text,
	`canaries_registered` integer DEFAULT false NOT NULL,
	PRIMARY KEY(`pair`, `epoch`)
);
