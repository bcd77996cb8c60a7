import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { CacheStats, PruneResult } from './store.js';

// What `agentpool cache stats|prune|clear` do to a SqliteStore's database.

export function storeStats(db: Database.Database, path: string): CacheStats {
  const totals = db
    .prepare(
      'SELECT COUNT(*) AS entries, COALESCE(SUM(bytes), 0) AS bytes, MIN(created_at) AS oldest, MAX(created_at) AS newest FROM entries',
    )
    .get() as { entries: number; bytes: number; oldest: number | null; newest: number | null };
  const runs = db
    .prepare(
      'SELECT run_id, started_at, lookups, hits, saved_tokens, saved_ms FROM runs ORDER BY started_at DESC LIMIT 10',
    )
    .all() as {
    run_id: string;
    started_at: number;
    lookups: number;
    hits: number;
    saved_tokens: number;
    saved_ms: number;
  }[];
  let fileBytes = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      fileBytes += statSync(path + suffix).size;
    } catch {
      // A log that was checkpointed away.
    }
  }
  return {
    ...totals,
    fileBytes,
    runs: runs.map((r) => ({
      runId: r.run_id,
      startedAt: r.started_at,
      lookups: r.lookups,
      hits: r.hits,
      savedTokens: r.saved_tokens,
      savedMs: r.saved_ms,
    })),
  };
}

export function pruneStore(
  db: Database.Database,
  { olderThan, maxBytes }: { olderThan?: number; maxBytes?: number },
): PruneResult {
  const result = db
    .transaction(() => {
      let removed = 0;
      let bytes = 0;
      if (olderThan !== undefined) {
        const gone = db
          .prepare(
            'SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM entries WHERE used_at < ?',
          )
          .get(olderThan) as { n: number; b: number };
        db.prepare('DELETE FROM entries WHERE used_at < ?').run(olderThan);
        removed += gone.n;
        bytes += gone.b;
      }
      if (maxBytes !== undefined) {
        let total = (
          db.prepare('SELECT COALESCE(SUM(bytes), 0) AS b FROM entries').get() as {
            b: number;
          }
        ).b;
        const oldest = db
          .prepare('SELECT key, bytes FROM entries ORDER BY used_at ASC, created_at ASC')
          .iterate() as IterableIterator<{ key: string; bytes: number }>;
        const doomed: string[] = [];
        for (const row of oldest) {
          if (total <= maxBytes) break;
          doomed.push(row.key);
          total -= row.bytes;
          bytes += row.bytes;
        }
        const drop = db.prepare('DELETE FROM entries WHERE key = ?');
        for (const key of doomed) drop.run(key);
        removed += doomed.length;
      }
      return { removed, bytes };
    })
    .immediate();
  compact(db);
  return result;
}

export function clearStore(db: Database.Database): PruneResult {
  const result = db
    .transaction(() => {
      const gone = db
        .prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM entries')
        .get() as { n: number; b: number };
      db.exec('DELETE FROM entries; DELETE FROM runs; DELETE FROM agent_versions;');
      return { removed: gone.n, bytes: gone.b };
    })
    .immediate();
  compact(db);
  return result;
}

// Hands freed pages back and folds the log into the database, so the files shrink.
function compact(db: Database.Database): void {
  db.pragma('incremental_vacuum');
  db.pragma('wal_checkpoint(TRUNCATE)');
}
