CREATE TABLE `identifier_changes` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`canonical` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `sides` ADD `delta_seq` integer;--> statement-breakpoint
ALTER TABLE `sides` ADD `delta_kinds` text;--> statement-breakpoint
CREATE TRIGGER `identifiers_changed_insert` AFTER INSERT ON `identifiers` BEGIN INSERT INTO `identifier_changes` (`kind`, `canonical`) VALUES (NEW.`kind`, NEW.`canonical`); END;--> statement-breakpoint
CREATE TRIGGER `identifiers_changed_delete` AFTER DELETE ON `identifiers` BEGIN INSERT INTO `identifier_changes` (`kind`, `canonical`) VALUES (OLD.`kind`, OLD.`canonical`); END;--> statement-breakpoint
CREATE TRIGGER `identifiers_changed_update` AFTER UPDATE ON `identifiers` BEGIN INSERT INTO `identifier_changes` (`kind`, `canonical`) VALUES (OLD.`kind`, OLD.`canonical`), (NEW.`kind`, NEW.`canonical`); END;
