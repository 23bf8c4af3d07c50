CREATE TABLE `media` (
	`id` text PRIMARY KEY NOT NULL,
	`uploader_id` text NOT NULL,
	`purpose` text NOT NULL,
	`content_type` text NOT NULL,
	`size` integer NOT NULL,
	`thumbnail_size` integer DEFAULT 0 NOT NULL,
	`name` text NOT NULL,
	`width` integer,
	`height` integer,
	`storage_key` text NOT NULL,
	`thumbnail_key` text,
	`storage` text NOT NULL,
	`message_id` text,
	`city_id` text,
	`chat_id` text,
	`created_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`uploader_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `media_message_unique` ON `media` (`message_id`) WHERE "media"."message_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `media_uploader_idx` ON `media` (`uploader_id`);--> statement-breakpoint
CREATE INDEX `media_created_idx` ON `media` (`created_at`);--> statement-breakpoint
CREATE INDEX `media_deleted_idx` ON `media` (`deleted_at`) WHERE "media"."deleted_at" IS NOT NULL;--> statement-breakpoint
ALTER TABLE `messages` ADD `attachment` text;