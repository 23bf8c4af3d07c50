-- Full-text search over messages (chat/search.ts, store/search.ts): an FTS5 index whose rows are
-- messages.seq and whose text is read back from messages (external content), so the text is
-- stored once. Tokens are Unicode words, case and diacritics folded ("cafe" finds "café").
-- Every row is in the index with its current content: a delete blanks it (no words left), an
-- edit replaces it, and a row deleted outright (erasure, retention) leaves with it. The triggers
-- run inside the writing transaction (the group commit), so the index never lags the table.
CREATE VIRTUAL TABLE `messages_fts` USING fts5(content, content='messages', content_rowid='seq', tokenize='unicode61 remove_diacritics 2');
--> statement-breakpoint
INSERT INTO `messages_fts` (`messages_fts`) VALUES ('rebuild');
--> statement-breakpoint
CREATE TRIGGER `messages_fts_insert` AFTER INSERT ON `messages` BEGIN
  INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
END;
--> statement-breakpoint
CREATE TRIGGER `messages_fts_delete` AFTER DELETE ON `messages` BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
END;
--> statement-breakpoint
CREATE TRIGGER `messages_fts_update` AFTER UPDATE OF content ON `messages` BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
  INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
END;
