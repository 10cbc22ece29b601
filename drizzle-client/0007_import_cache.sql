CREATE TABLE `import_cache` (
	`id` integer PRIMARY KEY NOT NULL,
	`context` text NOT NULL,
	`entries` integer NOT NULL,
	`identifiers` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `import_cache_chunks` (
	`idx` integer PRIMARY KEY NOT NULL,
	`entries` integer NOT NULL,
	`data` blob NOT NULL
);
