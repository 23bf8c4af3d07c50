CREATE TABLE `notifier_lease` (
	`id` integer PRIMARY KEY NOT NULL,
	`node_id` text NOT NULL,
	`until` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `notifier_progress` (
	`after_seq` integer PRIMARY KEY NOT NULL,
	`until_seq` integer NOT NULL,
	`node_id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
-- The watermark starts at the newest message: messages stored before the notifier kept one were handled by the process that stored them.
INSERT INTO `notifier_progress` (`after_seq`, `until_seq`, `node_id`, `created_at`) SELECT -1, coalesce(max(`seq`), 0), 'migration', 0 FROM `messages`;
