ALTER TABLE `chunks` ADD `canaries_registered` integer DEFAULT false NOT NULL;--> statement-breakpoint
UPDATE `chunks` SET `canaries_registered` = 1 WHERE EXISTS (SELECT 1 FROM `sides` s WHERE s.`pair` = `chunks`.`pair` AND s.`epoch` = `chunks`.`epoch` AND s.`canaries_registered` = 1);
