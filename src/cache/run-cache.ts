import type { Graph } from '../dag/graph.js';
import type { TaskSpec } from '../dag/schema.js';
import type { TaskResult } from '../results.js';
import { decodeValue, encodeValue } from '../shared/clone.js';
import { stableHash } from './hash.js';
import { cacheKey } from './key.js';
import type { CacheStore } from './store.js';
import type { CacheWarnings } from './warnings.js';

/** What the key knows of an agent this run: its module's source hash and declared version. */
export interface KeyedAgent {
  source: string;
  version: string | undefined;
  registered: string | undefined;
}

export interface RunCacheSettings {
  store: CacheStore;
  runId: string;
  graph: Graph;
  /** Agents whose tasks may be cached this run (not opted out, module readable). */
  agents: ReadonlyMap<string, KeyedAgent>;
  context: Record<string, unknown>;
  encoding: string;
  /** By task index, 1 where `rerun` asked to ignore what is cached (still written). */
  rerun: Uint8Array | undefined;
  warnings: CacheWarnings;
}

/** A task found in the cache: its output, and what its first run cost. */
export interface CacheHit {
  key: string;
  output: unknown;
  tokens: number;
  durationMs: number;
  createdAt: number;
  runId: string;
}

/**
 * One run's use of the cache, called by the planner at two points: when a
 * task's dependencies have ended and it would be queued (`lookup`: a hit
 * ends it `done` there and then), and when a task ends `done` (`record`,
 * before its event and before any dependent is decided: write-ahead).
 * Every failure of the store is a warning and a miss; never the run's.
 */
export class RunCache {
  readonly #s: RunCacheSettings;
  readonly #keys: (string | undefined)[];
  readonly #outputHashes: (string | undefined)[];
  readonly #hit: Uint8Array;
  readonly #touched: string[] = [];
  #contextHash: string | undefined;
  lookups = 0;
  hits = 0;
  savedTokens = 0;
  savedMs = 0;

  constructor(settings: RunCacheSettings) {
    this.#s = settings;
    const n = settings.graph.ids.length;
    this.#keys = new Array(n);
    this.#outputHashes = new Array(n);
    this.#hit = new Uint8Array(n);
  }

  /** Task `i`'s cached result, if its key is in the store; computes the key either way. */
  lookup(
    i: number,
    results: readonly (TaskResult | undefined)[],
    outputs: readonly unknown[],
    tokenLimit: number | undefined,
  ): CacheHit | undefined {
    const key = this.#key(i, results, outputs, tokenLimit);
    if (key === undefined || this.#s.rerun?.[i] === 1) return undefined;
    this.lookups++;
    let entry: ReturnType<CacheStore['get']>;
    let output: unknown;
    try {
      entry = this.#s.store.get(key);
      if (entry === undefined) return undefined;
      output = decodeValue(entry.output);
    } catch (error) {
      this.#s.warnings.warn(
        `task "${this.#s.graph.ids[i]}": cached entry unreadable, running it instead: ${(error as Error).message}`,
      );
      return undefined;
    }
    this.hits++;
    this.savedTokens += entry.tokens;
    this.savedMs += entry.durationMs;
    this.#hit[i] = 1;
    this.#outputHashes[i] = entry.outputHash;
    if (entry.usedAt < Date.now() - TOUCH_AFTER_MS) this.#touched.push(key);
    return {
      key,
      output,
      tokens: entry.tokens,
      durationMs: entry.durationMs,
      createdAt: entry.createdAt,
      runId: entry.runId,
    };
  }

  /** Task `i` ended `done`: stores its result (unless it came from the cache or is not cached). */
  record(i: number, result: Extract<TaskResult, { status: 'done' }>): void {
    const key = this.#keys[i];
    if (key === undefined || this.#hit[i] === 1) return;
    try {
      const output = encodeValue(result.output);
      const outputHash = stableHash(result.output);
      this.#outputHashes[i] = outputHash;
      this.#s.store.put({
        key,
        taskId: result.id,
        agent: result.agent,
        output,
        outputHash,
        tokens: result.tokens,
        durationMs: result.durationMs,
        createdAt: Date.now(),
        runId: this.#s.runId,
      });
    } catch (error) {
      this.#s.warnings.warn(
        `task "${result.id}": its result could not be cached: ${(error as Error).message}`,
      );
    }
  }

  /** The run ended: marks the entries it used, and records its hit rate. */
  finish(startedAt: number): void {
    try {
      this.#s.store.touch(this.#touched, Date.now());
      this.#s.store.recordRun({
        runId: this.#s.runId,
        startedAt,
        lookups: this.lookups,
        hits: this.hits,
        savedTokens: this.savedTokens,
        savedMs: this.savedMs,
      });
    } catch (error) {
      this.#s.warnings.warn(`could not record the run in the cache: ${(error as Error).message}`);
    }
  }

  #key(
    i: number,
    results: readonly (TaskResult | undefined)[],
    outputs: readonly unknown[],
    tokenLimit: number | undefined,
  ): string | undefined {
    const { graph } = this.#s;
    const task = graph.tasks[i] as TaskSpec;
    const agent = this.#s.agents.get(task.agent);
    if (agent === undefined || task.cache === false) return undefined;
    try {
      const deps: [string, string][] = [];
      const depStatus: [string, string][] = [];
      for (let k = graph.depStart[i] as number; k < (graph.depStart[i + 1] as number); k++) {
        const dep = graph.depIdx[k] as number;
        const id = graph.ids[dep] as string;
        const status = (results[dep] as TaskResult).status;
        depStatus.push([id, status]);
        if (status !== 'done') continue;
        let hash = this.#outputHashes[dep];
        if (hash === undefined) {
          hash = stableHash(outputs[dep]);
          this.#outputHashes[dep] = hash;
        }
        deps.push([id, hash]);
      }
      const key = cacheKey({
        agent: task.agent,
        source: agent.source,
        version: agent.version,
        registered: agent.registered,
        prompt: task.prompt,
        context: this.#context(task),
        deps,
        depStatus,
        encoding: this.#s.encoding,
        tokenLimit,
      });
      this.#keys[i] = key;
      return key;
    } catch (error) {
      this.#s.warnings.warn(
        `task "${graph.ids[i]}": no cache key (${(error as Error).message}); it runs uncached`,
      );
      return undefined;
    }
  }

  #context(task: TaskSpec): string {
    if (task.context === undefined) {
      this.#contextHash ??= stableHash(this.#s.context);
      return this.#contextHash;
    }
    return stableHash({ ...this.#s.context, ...task.context });
  }
}

// A hit refreshes its entry's last use (what prune goes by) at most this often: a
// fully cached re-run then writes nothing (100,000 updates cost ~0.3 s).
const TOUCH_AFTER_MS = 60 * 60 * 1000;

/** A hit as its task's result reports it. */
export function cachedFrom(
  hit: CacheHit,
): NonNullable<Extract<TaskResult, { status: 'done' }>['cachedFrom']> {
  return {
    runId: hit.runId,
    createdAt: hit.createdAt,
    tokens: hit.tokens,
    durationMs: hit.durationMs,
  };
}
