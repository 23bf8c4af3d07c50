-- New messages enter the search index from the writer itself (store/write-batch.ts and the libSQL
-- writer in store/group-commit.ts), in the same transaction as their row, by a prepared INSERT
-- into messages_fts. The AFTER INSERT trigger did the same work at about twice the cost: 20
-- against 10 µs a message at 16 per commit (bun:sqlite, FTS5 inside a trigger program). Edits,
-- deletes and rows deleted outright keep their triggers (0018): they are rare.
DROP TRIGGER `messages_fts_insert`;
