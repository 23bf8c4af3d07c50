CREATE TABLE `city_reads` (
	`user_id` text NOT NULL,
	`city_id` text NOT NULL,
	`last_read_message_id` text,
	`last_read_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `city_id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`city_id`) REFERENCES `cities`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `notification_settings` (
	`user_id` text NOT NULL,
	`room_kind` text NOT NULL,
	`room_id` text NOT NULL,
	`level` text NOT NULL,
	`mute_until` integer,
	PRIMARY KEY(`user_id`, `room_kind`, `room_id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `notification_settings_room_idx` ON `notification_settings` (`room_kind`,`room_id`,`level`);--> statement-breakpoint
CREATE TABLE `notifications` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`kind` text NOT NULL,
	`room_kind` text NOT NULL,
	`room_id` text NOT NULL,
	`message_id` text,
	`actor_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`read_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `notifications_user_idx` ON `notifications` (`user_id`,`id`);--> statement-breakpoint
ALTER TABLE `messages` ADD `mentions` text;--> statement-breakpoint
CREATE INDEX `messages_mentions_idx` ON `messages` (`city_id`,`chat_id`,`seq`) WHERE "messages"."mentions" IS NOT NULL;