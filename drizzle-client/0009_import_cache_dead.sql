CREATE TABLE `import_cache_dead` (
	`idx` integer PRIMARY KEY NOT NULL,
	`dead` blob NOT NULL
);
