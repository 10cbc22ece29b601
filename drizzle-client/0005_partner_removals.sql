CREATE TABLE `partner_removals` (
	`pair` text NOT NULL,
	`epoch` text NOT NULL,
	`position` integer NOT NULL,
	`removed_at` text NOT NULL,
	PRIMARY KEY(`pair`, `epoch`, `position`)
);
