-- The notifier's read of the room log (store/room-stream.ts listNotifiedEvents) walks this index:
-- edits, deletes, reactions and membership changes. Thread updates, pins and role changes, the
-- common log rows, write no entry in it.
CREATE INDEX `room_events_notify_idx` ON `room_events` (`id`) WHERE substr("room_events"."packet", 3, instr("room_events"."packet", '",') - 3) IN ('chat-members-added', 'chat-members-removed', 'city-message-edited', 'city-message-deleted', 'city-message-reaction', 'private-message-edited', 'private-message-deleted', 'private-message-reaction');