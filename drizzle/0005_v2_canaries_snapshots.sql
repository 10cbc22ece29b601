CREATE TABLE `count_snapshots` (
	`pair_key` integer NOT NULL,
	`epoch` text NOT NULL,
	`count` integer NOT NULL,
	`churn` integer NOT NULL,
	`taken_at` text NOT NULL,
	PRIMARY KEY(`pair_key`, `epoch`)
);
--> statement-breakpoint
ALTER TABLE `side_state` ADD `canary_chunks` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `side_state` ADD `churn_alert_at` text;