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
-- pair's matches or handles gives its epoch a new match revision, and every change to what a hits
-- document lists gives the hits a new revision (src/store/schema.ts, matchRevisions and hitsRevision).
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
--> statement-breakpoint
CREATE TRIGGER `nightly_hits_revision_insert` AFTER INSERT ON `nightly_hits` BEGIN INSERT INTO `hits_revision` (`id`, `revision`) VALUES (1, randomblob(16)) ON CONFLICT (`id`) DO UPDATE SET `revision` = excluded.`revision`; END;
--> statement-breakpoint
CREATE TRIGGER `nightly_hits_revision_update` AFTER UPDATE ON `nightly_hits` BEGIN INSERT INTO `hits_revision` (`id`, `revision`) VALUES (1, randomblob(16)) ON CONFLICT (`id`) DO UPDATE SET `revision` = excluded.`revision`; END;
--> statement-breakpoint
CREATE TRIGGER `nightly_hits_revision_delete` AFTER DELETE ON `nightly_hits` BEGIN INSERT INTO `hits_revision` (`id`, `revision`) VALUES (1, randomblob(16)) ON CONFLICT (`id`) DO UPDATE SET `revision` = excluded.`revision`; END;
--> statement-breakpoint
CREATE TRIGGER `query_hits_revision_insert` AFTER INSERT ON `query_hits` BEGIN INSERT INTO `hits_revision` (`id`, `revision`) VALUES (1, randomblob(16)) ON CONFLICT (`id`) DO UPDATE SET `revision` = excluded.`revision`; END;
--> statement-breakpoint
CREATE TRIGGER `query_hits_revision_update` AFTER UPDATE ON `query_hits` BEGIN INSERT INTO `hits_revision` (`id`, `revision`) VALUES (1, randomblob(16)) ON CONFLICT (`id`) DO UPDATE SET `revision` = excluded.`revision`; END;
--> statement-breakpoint
CREATE TRIGGER `query_hits_revision_delete` AFTER DELETE ON `query_hits` BEGIN INSERT INTO `hits_revision` (`id`, `revision`) VALUES (1, randomblob(16)) ON CONFLICT (`id`) DO UPDATE SET `revision` = excluded.`revision`; END;
--> statement-breakpoint
CREATE TRIGGER `hit_status_revision_insert` AFTER INSERT ON `hit_status` BEGIN INSERT INTO `hits_revision` (`id`, `revision`) VALUES (1, randomblob(16)) ON CONFLICT (`id`) DO UPDATE SET `revision` = excluded.`revision`; END;
--> statement-breakpoint
CREATE TRIGGER `hit_status_revision_update` AFTER UPDATE ON `hit_status` BEGIN INSERT INTO `hits_revision` (`id`, `revision`) VALUES (1, randomblob(16)) ON CONFLICT (`id`) DO UPDATE SET `revision` = excluded.`revision`; END;
--> statement-breakpoint
CREATE TRIGGER `hit_status_revision_delete` AFTER DELETE ON `hit_status` BEGIN INSERT INTO `hits_revision` (`id`, `revision`) VALUES (1, randomblob(16)) ON CONFLICT (`id`) DO UPDATE SET `revision` = excluded.`revision`; END;
--> statement-breakpoint
CREATE TRIGGER `queries_revision_delete` AFTER DELETE ON `queries` BEGIN INSERT INTO `hits_revision` (`id`, `revision`) VALUES (1, randomblob(16)) ON CONFLICT (`id`) DO UPDATE SET `revision` = excluded.`revision`; END;
--> statement-breakpoint
CREATE TRIGGER `queries_revision_update` AFTER UPDATE OF `requester`, `purpose`, `case_ref` ON `queries` BEGIN INSERT INTO `hits_revision` (`id`, `revision`) VALUES (1, randomblob(16)) ON CONFLICT (`id`) DO UPDATE SET `revision` = excluded.`revision`; END;
