-- The search index learns each message's scope, so FTS5 itself narrows a search to rooms and a
-- sender: without it a common word searched in one small chat walked every match in the
-- database (about 160 ms for a word in half of 1M messages) to find the few in that chat. The
-- `scope` column holds tokens (never matched by a user's words: those are filtered to
-- `content`): `c<hex of the city id>` for a city message, `h<hex of the chat id>` for a private
-- one, `u<hex of the author id>`. It is computed from the row, by the view the index
-- reads (external content) and by the triggers, which run inside the writing transaction.
DROP TRIGGER `messages_fts_insert`;
--> statement-breakpoint
DROP TRIGGER `messages_fts_delete`;
--> statement-breakpoint
DROP TRIGGER `messages_fts_update`;
--> statement-breakpoint
DROP TABLE `messages_fts`;
--> statement-breakpoint
CREATE VIEW `messages_search_source` AS SELECT seq, content, (CASE WHEN city_id IS NOT NULL THEN 'c' || hex(city_id) ELSE 'h' || hex(chat_id) END) || ' u' || hex(author_id) AS scope FROM messages;
--> statement-breakpoint
CREATE VIRTUAL TABLE `messages_fts` USING fts5(content, scope, content='messages_search_source', content_rowid='seq', tokenize='unicode61 remove_diacritics 2');
--> statement-breakpoint
INSERT INTO `messages_fts` (`messages_fts`) VALUES ('rebuild');
--> statement-breakpoint
CREATE TRIGGER `messages_fts_insert` AFTER INSERT ON `messages` BEGIN
  INSERT INTO messages_fts (rowid, content, scope) VALUES (new.seq, new.content,
    (CASE WHEN new.city_id IS NOT NULL THEN 'c' || hex(new.city_id) ELSE 'h' || hex(new.chat_id) END) || ' u' || hex(new.author_id));
END;
--> statement-breakpoint
CREATE TRIGGER `messages_fts_delete` AFTER DELETE ON `messages` BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content, scope) VALUES ('delete', old.seq, old.content,
    (CASE WHEN old.city_id IS NOT NULL THEN 'c' || hex(old.city_id) ELSE 'h' || hex(old.chat_id) END) || ' u' || hex(old.author_id));
END;
--> statement-breakpoint
CREATE TRIGGER `messages_fts_update` AFTER UPDATE OF content, city_id, chat_id, author_id ON `messages` BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content, scope) VALUES ('delete', old.seq, old.content,
    (CASE WHEN old.city_id IS NOT NULL THEN 'c' || hex(old.city_id) ELSE 'h' || hex(old.chat_id) END) || ' u' || hex(old.author_id));
  INSERT INTO messages_fts (rowid, content, scope) VALUES (new.seq, new.content,
    (CASE WHEN new.city_id IS NOT NULL THEN 'c' || hex(new.city_id) ELSE 'h' || hex(new.chat_id) END) || ' u' || hex(new.author_id));
END;
