CREATE TABLE `audit_heads` (
	`size` integer PRIMARY KEY NOT NULL,
	`log` text NOT NULL,
	`root` text NOT NULL,
	`at` text NOT NULL,
	`signature` text NOT NULL,
	`verified_at` text NOT NULL
);
