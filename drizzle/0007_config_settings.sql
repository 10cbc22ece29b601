ALTER TABLE `config` ADD `idle_days` integer DEFAULT 45;--> statement-breakpoint
ALTER TABLE `config` ADD `rotate_days` integer DEFAULT 30;--> statement-breakpoint
ALTER TABLE `config` ADD `probing` text;