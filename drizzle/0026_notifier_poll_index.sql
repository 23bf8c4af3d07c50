-- The notifier's poll (store/notifications.ts messagesToNotify) walks this index instead of every
-- new message: private-chat messages, replies and mentions. A city's plain messages are read
-- through messages_city_idx, and only in cities where someone chose `all`.
CREATE INDEX `messages_notify_idx` ON `messages` (`seq`) WHERE "messages"."chat_id" IS NOT NULL OR "messages"."reply_to" IS NOT NULL OR "messages"."mentions" IS NOT NULL;
