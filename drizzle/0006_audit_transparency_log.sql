CREATE TABLE `audit_heads` (
	`size` integer PRIMARY KEY NOT NULL,
	`root` blob NOT NULL,
	`at` text NOT NULL,
	`signature` blob NOT NULL
);
--> statement-breakpoint
CREATE TABLE `audit_keys` (
	`id` integer PRIMARY KEY NOT NULL,
	`log_key` blob NOT NULL,
	`salt_key` blob NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `audit_tree` (
	`id` integer PRIMARY KEY NOT NULL,
	`hash` blob NOT NULL
);
