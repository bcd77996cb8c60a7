/**
 * Where cached task results live. The planner calls `get` and `put`
 * synchronously, in the same tick it decides a task or books its result:
 * that is what makes the write ahead of the `done` event and of any
 * dependent's dispatch without a state machine around each lookup. A store
 * over the network implements these over a local write-ahead copy, or the
 * hook grows an asynchronous path (see README, "Caching").
 */
export interface CacheStore {
  /** The entry under `key`, or undefined. Throws `CacheEntryError` for one that cannot be read. */
  get(key: string): StoredEntry | undefined;
  /** Stores an entry; durable (survives a kill -9 of this process) once it returns. */
  put(entry: NewEntry): void;
  /** Marks entries as used now (for `prune --older-than` and `--max-size`, which drop the least recently used). */
  touch(keys: readonly string[], at: number): void;
  /** The `version` last seen declared by a module with these source bytes; null: none declared; undefined: never seen. */
  agentVersion(module: string, source: string): string | null | undefined;
  rememberAgentVersion(module: string, source: string, version: string | null): void;
  /** Records how a run used the cache, for `stats`. */
  recordRun(run: RunRecord): void;
  stats(): CacheStats;
  /** Deletes entries last used before `olderThan` (epoch ms), then the least recently used until at most `maxBytes` remain. */
  prune(options: { olderThan?: number; maxBytes?: number }): PruneResult;
  /** Deletes every entry and run record. */
  clear(): PruneResult;
  close(): void;
}

/** A done task's result as stored. */
export interface NewEntry {
  key: string;
  taskId: string;
  agent: string;
  /** The output as V8's structured-clone serializer writes it (`encodeValue`). */
  output: Uint8Array;
  /** `stableHash` of the output: what dependents' keys are made of. */
  outputHash: string;
  tokens: number;
  durationMs: number;
  createdAt: number;
  runId: string;
}

export interface StoredEntry extends NewEntry {
  usedAt: number;
}

export interface RunRecord {
  runId: string;
  startedAt: number;
  /** Tasks that looked in the cache (not those opted out or never reached). */
  lookups: number;
  hits: number;
  savedTokens: number;
  savedMs: number;
}

export interface CacheStats {
  entries: number;
  /** Bytes of stored outputs. */
  bytes: number;
  /** Size of the store's files on disk. */
  fileBytes: number;
  oldest: number | null;
  newest: number | null;
  /** The last runs, newest first. */
  runs: RunRecord[];
}

export interface PruneResult {
  removed: number;
  bytes: number;
}

/** An entry that exists but cannot be used (a damaged row, a blob that does not decode). */
export class CacheEntryError extends Error {
  override readonly name = 'CacheEntryError';
}
