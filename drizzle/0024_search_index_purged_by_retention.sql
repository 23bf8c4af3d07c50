-- Rows deleted outright (retention is the only path that deletes a message row) leave the search
-- index from the purge itself (store/messages.ts purgeMessages), in the same transaction as their
-- delete, by one INSERT … SELECT 'delete' over the slice's rows. The AFTER DELETE trigger did the
-- same per row at about 1.5-2 times the cost (a trigger program per row: 5-6 against 3-4 µs a
-- row at 500 rows a slice, bun:sqlite). Edits and soft deletes keep their trigger (0018).
DROP TRIGGER `messages_fts_delete`;
