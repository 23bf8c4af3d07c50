/** @module Embedded migrations: drizzle-kit's SQL files imported as text, so a compiled binary carries them. */

import m0000 from '../../drizzle/0000_init.sql' with { type: 'text' }
import m0001 from '../../drizzle/0001_recovery.sql' with { type: 'text' }
import m0002 from '../../drizzle/0002_partial_message_indexes.sql' with { type: 'text' }
import m0003 from '../../drizzle/0003_room_events_prune_by_id.sql' with { type: 'text' }
import m0004 from '../../drizzle/0004_room_events_reference_messages.sql' with { type: 'text' }
import m0005 from '../../drizzle/0005_refresh_tokens_expiry.sql' with { type: 'text' }
import m0006 from '../../drizzle/0006_message_offsets.sql' with { type: 'text' }
import m0007 from '../../drizzle/0007_live_socket_sessions.sql' with { type: 'text' }
import m0008 from '../../drizzle/0008_accounts.sql' with { type: 'text' }
import m0009 from '../../drizzle/0009_cluster_identity.sql' with { type: 'text' }
import m0010 from '../../drizzle/0010_notifications.sql' with { type: 'text' }
import m0011 from '../../drizzle/0011_webhook_outbox.sql' with { type: 'text' }
import m0012 from '../../drizzle/0012_moderation.sql' with { type: 'text' }
import m0013 from '../../drizzle/0013_media.sql' with { type: 'text' }
import m0014 from '../../drizzle/0014_chat_reports.sql' with { type: 'text' }
import m0015 from '../../drizzle/0015_export_erasure.sql' with { type: 'text' }
import m0016 from '../../drizzle/0016_search_index.sql' with { type: 'text' }
import m0017 from '../../drizzle/0017_retention_last_seen.sql' with { type: 'text' }
import m0018 from '../../drizzle/0018_search_scope.sql' with { type: 'text' }
import m0019 from '../../drizzle/0019_web_push.sql' with { type: 'text' }
import m0020 from '../../drizzle/0020_reactions_threads_pins.sql' with { type: 'text' }
import m0021 from '../../drizzle/0021_registered_webhooks.sql' with { type: 'text' }
import m0022 from '../../drizzle/0022_search_index_by_writer.sql' with { type: 'text' }
import m0023 from '../../drizzle/0023_notifier_watermark.sql' with { type: 'text' }
import m0024 from '../../drizzle/0024_search_index_purged_by_retention.sql' with { type: 'text' }
import m0025 from '../../drizzle/0025_last_seen_nodes.sql' with { type: 'text' }
import m0026 from '../../drizzle/0026_notifier_poll_index.sql' with { type: 'text' }
import m0027 from '../../drizzle/0027_room_events_notify_index.sql' with { type: 'text' }
import m0028 from '../../drizzle/0028_search_index_lean.sql' with { type: 'text' }
import journal from '../../drizzle/meta/_journal.json' with { type: 'json' }

/**
 * Every file drizzle-kit generated, by tag. After `npm run db:generate`, add the new file here;
 * test/store/migrate.test.ts fails until every journal entry has its SQL.
 */
export const MIGRATION_SQL: Record<string, string> = {
  '0000_init': m0000,
  '0001_recovery': m0001,
  '0002_partial_message_indexes': m0002,
  '0003_room_events_prune_by_id': m0003,
  '0004_room_events_reference_messages': m0004,
  '0005_refresh_tokens_expiry': m0005,
  '0006_message_offsets': m0006,
  '0007_live_socket_sessions': m0007,
  '0008_accounts': m0008,
  '0009_cluster_identity': m0009,
  '0010_notifications': m0010,
  '0011_webhook_outbox': m0011,
  '0012_moderation': m0012,
  '0013_media': m0013,
  '0014_chat_reports': m0014,
  '0015_export_erasure': m0015,
  '0016_search_index': m0016,
  '0017_retention_last_seen': m0017,
  '0018_search_scope': m0018,
  '0019_web_push': m0019,
  '0020_reactions_threads_pins': m0020,
  '0021_registered_webhooks': m0021,
  '0022_search_index_by_writer': m0022,
  '0023_notifier_watermark': m0023,
  '0024_search_index_purged_by_retention': m0024,
  '0025_last_seen_nodes': m0025,
  '0026_notifier_poll_index': m0026,
  '0027_room_events_notify_index': m0027,
  '0028_search_index_lean': m0028,
}

export interface JournalEntry {
  idx: number
  when: number
  tag: string
  breakpoints: boolean
}

export const JOURNAL_ENTRIES: JournalEntry[] = journal.entries
