PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_reports` (
	`id` text PRIMARY KEY NOT NULL,
	`message_id` text NOT NULL,
	`city_id` text,
	`chat_id` text,
	`reporter_id` text,
	`reason` text NOT NULL,
	`status` text DEFAULT 'open' NOT NULL,
	`action` text,
	`resolved_by` text,
	`resolved_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
INSERT INTO `__new_reports`("id", "message_id", "city_id", "chat_id", "reporter_id", "reason", "status", "action", "resolved_by", "resolved_at", "created_at") SELECT "id", "message_id", "city_id", NULL, "reporter_id", "reason", "status", "action", "resolved_by", "resolved_at", "created_at" FROM `reports`;--> statement-breakpoint
DROP TABLE `reports`;--> statement-breakpoint
ALTER TABLE `__new_reports` RENAME TO `reports`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `reports_message_reporter_unique` ON `reports` (`message_id`,`reporter_id`);--> statement-breakpoint
CREATE INDEX `reports_status_city_idx` ON `reports` (`status`,`city_id`);