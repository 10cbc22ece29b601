CREATE TABLE `chunk_pieces` (
	`pair_key` integer NOT NULL,
	`epoch` text NOT NULL,
	`side` integer NOT NULL,
	`idx` integer NOT NULL,
	`piece` integer NOT NULL,
	`elements` blob NOT NULL,
	PRIMARY KEY(`pair_key`, `epoch`, `side`, `idx`, `piece`)
);
