DROP INDEX `messages_city_idx`;--> statement-breakpoint
DROP INDEX `messages_chat_idx`;--> statement-breakpoint
DROP INDEX `messages_author_client_unique`;--> statement-breakpoint
CREATE INDEX `messages_city_idx` ON `messages` (`city_id`,`id`) WHERE "messages"."city_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `messages_chat_idx` ON `messages` (`chat_id`,`id`) WHERE "messages"."chat_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `messages_author_client_unique` ON `messages` (`author_id`,`client_id`) WHERE "messages"."client_id" IS NOT NULL;