CREATE TABLE `offset_floor` (
	`id` integer PRIMARY KEY NOT NULL,
	`value` integer NOT NULL,
	CONSTRAINT "offset_floor_one_row" CHECK("offset_floor"."id" = 1)
);
--> statement-breakpoint
-- Hand-edited from here on. Offsets change meaning (messages.seq and room_events.id now share one
-- order), so the old log and the sessions that point into it go: a client reconnects fresh and
-- reloads history. New offsets start above every old one a client may still hold.
INSERT INTO `offset_floor`("id", "value") SELECT 1, coalesce(max("id"), 0) FROM `room_events`;--> statement-breakpoint
DELETE FROM `socket_sessions`;--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_room_events` (
	`id` integer PRIMARY KEY NOT NULL,
	`room` text NOT NULL,
	`packet` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
DROP TABLE `room_events`;--> statement-breakpoint
ALTER TABLE `__new_room_events` RENAME TO `room_events`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `room_events_room_idx` ON `room_events` (`room`,`id`);--> statement-breakpoint
CREATE TABLE `__new_messages` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`city_id` text,
	`chat_id` text,
	`author_id` text NOT NULL,
	`content` text NOT NULL,
	`message_type` text DEFAULT 'text' NOT NULL,
	`media_url` text,
	`reply_to` text,
	`client_id` text,
	`is_edited` integer DEFAULT false NOT NULL,
	`is_deleted` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`edited_at` integer,
	`deleted_at` integer,
	FOREIGN KEY (`city_id`) REFERENCES `cities`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`chat_id`) REFERENCES `chats`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`author_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "messages_one_room" CHECK(("__new_messages"."city_id" IS NULL) <> ("__new_messages"."chat_id" IS NULL))
);
--> statement-breakpoint
-- Existing messages take seqs in id (creation) order.
INSERT INTO `__new_messages`("seq", "id", "city_id", "chat_id", "author_id", "content", "message_type", "media_url", "reply_to", "client_id", "is_edited", "is_deleted", "created_at", "edited_at", "deleted_at") SELECT NULL, "id", "city_id", "chat_id", "author_id", "content", "message_type", "media_url", "reply_to", "client_id", "is_edited", "is_deleted", "created_at", "edited_at", "deleted_at" FROM `messages` ORDER BY "id";--> statement-breakpoint
DROP TABLE `messages`;--> statement-breakpoint
ALTER TABLE `__new_messages` RENAME TO `messages`;--> statement-breakpoint
CREATE UNIQUE INDEX `messages_id_unique` ON `messages` (`id`);--> statement-breakpoint
CREATE INDEX `messages_city_idx` ON `messages` (`city_id`) WHERE "messages"."city_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `messages_chat_idx` ON `messages` (`chat_id`) WHERE "messages"."chat_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `messages_author_client_unique` ON `messages` (`author_id`,`client_id`) WHERE "messages"."client_id" IS NOT NULL;--> statement-breakpoint
-- Deleting a chat deletes its messages; their seqs must not be given out again.
CREATE TRIGGER `chats_delete_keeps_offsets` BEFORE DELETE ON `chats` BEGIN
  UPDATE `offset_floor` SET "value" = max("value", coalesce((SELECT max("seq") FROM `messages` WHERE "chat_id" = OLD."id"), 0));
END;
