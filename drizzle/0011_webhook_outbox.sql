CREATE TABLE `webhook_outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event_id` text NOT NULL,
	`hook_id` text NOT NULL,
	`url` text NOT NULL,
	`room` text NOT NULL,
	`type` text NOT NULL,
	`body` text NOT NULL,
	`state` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_at` integer NOT NULL,
	`lease_until` integer,
	`last_error` text,
	`last_status` integer,
	`created_at` integer NOT NULL,
	`done_at` integer
);
--> statement-breakpoint
CREATE INDEX `webhook_outbox_pending_idx` ON `webhook_outbox` (`room`,`id`) WHERE "webhook_outbox"."state" = 'pending';--> statement-breakpoint
CREATE INDEX `webhook_outbox_hook_idx` ON `webhook_outbox` (`hook_id`,`id`);