ALTER TABLE `cities` ADD `retention_days` integer;--> statement-breakpoint
ALTER TABLE `users` ADD `last_seen_at` integer;--> statement-breakpoint
CREATE INDEX `notifications_message_idx` ON `notifications` (`message_id`) WHERE "notifications"."message_id" IS NOT NULL;