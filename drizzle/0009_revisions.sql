CREATE TABLE `hits_revision` (
	`id` integer PRIMARY KEY NOT NULL,
	`revision` blob NOT NULL
);
--> statement-breakpoint
CREATE TABLE `match_revisions` (
	`pair_key` integer NOT NULL,
	`epoch` text NOT NULL,
	`revision` blob NOT NULL,
	PRIMARY KEY(`pair_key`, `epoch`)
);--> statement-breakpoint
-- The triggers below are not generated: drizzle's schema cannot declare triggers. Every change to a
-- pair's matches or handles gives its epoch a new match revision (src/store/schema.ts, matchRevisions).
-- The hits revision is written by the statements that change hits instead (src/store/sql/hits.ts):
-- those tables live in D1 on Workers, whose change counts include rows written by triggers.
CREATE TRIGGER `matches_revision_insert` AFTER INSERT ON `matches` BEGIN INSERT INTO `match_revisions` (`pair_key`, `epoch`, `revision`) VALUES (NEW.`pair_key`, NEW.`epoch`, randomblob(16)) ON CONFLICT (`pair_key`, `epoch`) DO UPDATE SET `revision` = excluded.`revision`; END;
--> statement-breakpoint
CREATE TRIGGER `matches_revision_update` AFTER UPDATE ON `matches` BEGIN INSERT INTO `match_revisions` (`pair_key`, `epoch`, `revision`) VALUES (NEW.`pair_key`, NEW.`epoch`, randomblob(16)) ON CONFLICT (`pair_key`, `epoch`) DO UPDATE SET `revision` = excluded.`revision`; INSERT INTO `match_revisions` (`pair_key`, `epoch`, `revision`) VALUES (OLD.`pair_key`, OLD.`epoch`, randomblob(16)) ON CONFLICT (`pair_key`, `epoch`) DO UPDATE SET `revision` = excluded.`revision`; END;
--> statement-breakpoint
CREATE TRIGGER `matches_revision_delete` AFTER DELETE ON `matches` BEGIN INSERT INTO `match_revisions` (`pair_key`, `epoch`, `revision`) VALUES (OLD.`pair_key`, OLD.`epoch`, randomblob(16)) ON CONFLICT (`pair_key`, `epoch`) DO UPDATE SET `revision` = excluded.`revision`; END;
--> statement-breakpoint
CREATE TRIGGER `handles_revision_insert` AFTER INSERT ON `handles` BEGIN INSERT INTO `match_revisions` (`pair_key`, `epoch`, `revision`) VALUES (NEW.`pair_key`, NEW.`epoch`, randomblob(16)) ON CONFLICT (`pair_key`, `epoch`) DO UPDATE SET `revision` = excluded.`revision`; END;
--> statement-breakpoint
CREATE TRIGGER `handles_revision_update` AFTER UPDATE ON `handles` BEGIN INSERT INTO `match_revisions` (`pair_key`, `epoch`, `revision`) VALUES (NEW.`pair_key`, NEW.`epoch`, randomblob(16)) ON CONFLICT (`pair_key`, `epoch`) DO UPDATE SET `revision` = excluded.`revision`; INSERT INTO `match_revisions` (`pair_key`, `epoch`, `revision`) VALUES (OLD.`pair_key`, OLD.`epoch`, randomblob(16)) ON CONFLICT (`pair_key`, `epoch`) DO UPDATE SET `revision` = excluded.`revision`; END;
--> statement-breakpoint
CREATE TRIGGER `handles_revision_delete` AFTER DELETE ON `handles` BEGIN INSERT INTO `match_revisions` (`pair_key`, `epoch`, `revision`) VALUES (OLD.`pair_key`, OLD.`epoch`, randomblob(16)) ON CONFLICT (`pair_key`, `epoch`) DO UPDATE SET `revision` = excluded.`revision`; END;
