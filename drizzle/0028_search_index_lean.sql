-- The search index's scope tokens without the hex (store/search.ts scopeOf), so each stored
-- message, indexed inside the group commit (0022), gives FTS5 less to tokenise and hash:
-- `c<city id>`, `h<chat id>`, `u<author id>` when the id is lower-case letters and digits (ids
-- from store/ids.ts, slugs without a hyphen), else the prefix, `x` and the id's UTF-8 in hex (a
-- hyphenated slug). 25 characters a token instead of 49 for a 24-character id. The view computes
-- the writer's text byte for byte, so a rebuild, the purge's and a chat deletion's 'delete'
-- remove exactly what was indexed. Words, phrases, prefixes, folding, ranks and snippets are as
-- before. `columnsize=0` (no size row per message) was measured and left out: bm25 then reads
-- each returned row back, and the search p99 over 1M messages rose by about half.
-- The index is rebuilt from the rows, so an existing database's messages are found as before.
DROP TRIGGER `messages_fts_update`;
--> statement-breakpoint
DROP TABLE `messages_fts`;
--> statement-breakpoint
DROP VIEW `messages_search_source`;
--> statement-breakpoint
CREATE VIEW `messages_search_source` AS SELECT seq, content,
  (CASE WHEN city_id IS NOT NULL
    THEN 'c' || (CASE WHEN city_id GLOB '*[^a-z0-9]*' OR city_id = '' THEN 'x' || hex(city_id) ELSE city_id END)
    ELSE 'h' || (CASE WHEN coalesce(chat_id, '') GLOB '*[^a-z0-9]*' OR coalesce(chat_id, '') = '' THEN 'x' || hex(coalesce(chat_id, '')) ELSE chat_id END)
  END) || ' u' || (CASE WHEN author_id GLOB '*[^a-z0-9]*' OR author_id = '' THEN 'x' || hex(author_id) ELSE author_id END) AS scope
  FROM messages;
--> statement-breakpoint
CREATE VIRTUAL TABLE `messages_fts` USING fts5(content, scope, content='messages_search_source', content_rowid='seq', tokenize='unicode61 remove_diacritics 2');
--> statement-breakpoint
INSERT INTO `messages_fts` (`messages_fts`) VALUES ('rebuild');
--> statement-breakpoint
CREATE TRIGGER `messages_fts_update` AFTER UPDATE OF content, city_id, chat_id, author_id ON `messages` BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content, scope) VALUES ('delete', old.seq, old.content,
    (CASE WHEN old.city_id IS NOT NULL
      THEN 'c' || (CASE WHEN old.city_id GLOB '*[^a-z0-9]*' OR old.city_id = '' THEN 'x' || hex(old.city_id) ELSE old.city_id END)
      ELSE 'h' || (CASE WHEN coalesce(old.chat_id, '') GLOB '*[^a-z0-9]*' OR coalesce(old.chat_id, '') = '' THEN 'x' || hex(coalesce(old.chat_id, '')) ELSE old.chat_id END)
    END) || ' u' || (CASE WHEN old.author_id GLOB '*[^a-z0-9]*' OR old.author_id = '' THEN 'x' || hex(old.author_id) ELSE old.author_id END));
  INSERT INTO messages_fts (rowid, content, scope) VALUES (new.seq, new.content,
    (CASE WHEN new.city_id IS NOT NULL
      THEN 'c' || (CASE WHEN new.city_id GLOB '*[^a-z0-9]*' OR new.city_id = '' THEN 'x' || hex(new.city_id) ELSE new.city_id END)
      ELSE 'h' || (CASE WHEN coalesce(new.chat_id, '') GLOB '*[^a-z0-9]*' OR coalesce(new.chat_id, '') = '' THEN 'x' || hex(coalesce(new.chat_id, '')) ELSE new.chat_id END)
    END) || ' u' || (CASE WHEN new.author_id GLOB '*[^a-z0-9]*' OR new.author_id = '' THEN 'x' || hex(new.author_id) ELSE new.author_id END));
END;
