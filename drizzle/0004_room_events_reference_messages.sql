PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_room_events` (
	`id` integer PRIMARY KEY NOT NULL,
	`room` text NOT NULL,
	`packet` text,
	`message_id` text,
	`created_at` integer NOT NULL,
	CONSTRAINT "room_events_packet_or_message" CHECK(("packet" IS NULL) <> ("message_id" IS NULL))
);
--> statement-breakpoint
-- Hand-edited: the old table has no message_id; a pruned-empty log keeps its high-water mark as a
-- row in no room, so rowid ids never go back.
INSERT INTO `__new_room_events`("id", "room", "packet", "message_id", "created_at") SELECT "id", "room", "packet", NULL, "created_at" FROM `room_events`;--> statement-breakpoint
INSERT INTO `__new_room_events`("id", "room", "packet", "message_id", "created_at") SELECT "seq", '', '[]', NULL, 0 FROM `sqlite_sequence` WHERE "name" = 'room_events' AND "seq" > (SELECT coalesce(max("id"), 0) FROM `room_events`);--> statement-breakpoint
DROP TABLE `room_events`;--> statement-breakpoint
ALTER TABLE `__new_room_events` RENAME TO `room_events`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `room_events_room_idx` ON `room_events` (`room`,`id`);