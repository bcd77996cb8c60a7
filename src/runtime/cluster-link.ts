import { resolve } from 'node:path';
import type { z } from 'zod';
import type { QueueExecutor } from '../cluster/queue-executor.js';
import type { RunRecord } from '../cluster/run-record.js';
import { clusterSettings, type redisOptionSchema } from '../cluster/settings.js';
import type { DagInput } from '../dag/schema.js';
import type { ResolvedOptions } from '../options.js';
import type { RunAgent } from '../planner/run-settings.js';
import type { TaskResult } from '../results.js';
import type { ChannelEvent } from '../shared/protocol.js';
import type { ParsedExecuteOptions } from './run-setup.js';

/** What the link reads of the runtime's options. */
export interface ClusterLinkSettings {
  redis: z.output<typeof redisOptionSchema>;
  timeoutGraceMs: number;
  /** The host services this process registers (a run needs workers that offer them). */
  services: readonly string[];
}

/**
 * A runtime's connection to its cluster (`redis`): the queue executor that
 * replaces local threads, connected once on first use (bullmq is imported
 * only then), and the checks each run passes before it starts.
 */
export class ClusterLink {
  readonly #s: ClusterLinkSettings;
  readonly #onEvent: (event: ChannelEvent) => void;
  #executor: Promise<QueueExecutor> | undefined;
  // The executor once connected (runs start only after that).
  #ready: QueueExecutor | undefined;
  // Leased runs: how each stops if another planner takes it over (true: it
  // was taken over before its run started).
  readonly #leased = new Map<string, (() => void) | true>();

  constructor(settings: ClusterLinkSettings, onEvent: (event: ChannelEvent) => void) {
    this.#s = settings;
    this.#onEvent = onEvent;
  }

  /**
   * The queue executor, connecting on the first call. A run's token budget
   * (`runTokens`) is then a Redis counter its workers charge (see
   * `cluster/budget-store.ts`).
   */
  connect(): Promise<QueueExecutor> {
    this.#executor ??= import('../cluster/queue-executor.js')
      .then(({ QueueExecutor }) =>
        QueueExecutor.connect(
          clusterSettings(this.#s.redis),
          this.#onEvent,
          this.#s.timeoutGraceMs,
        ),
      )
      .then((executor) => {
        this.#ready = executor;
        return executor;
      });
    return this.#executor;
  }

  /**
   * Refuses the run unless live workers have each agent it needs (`modules`:
   * name to module path) with this process's module hash, and the host
   * services; then leases the run id (one planner owns it at a time) and
   * journals the run's record (`record`, given the agents' hashes) before
   * any of its tasks is dispatched.
   */
  async begin(
    executor: QueueExecutor,
    modules: ReadonlyMap<string, string>,
    runId: string,
    record: (hashes: ReadonlyMap<string, string>, services: string[]) => RunRecord,
  ): Promise<void> {
    const hashes = await executor.preflight(modules, this.#s.services);
    this.#leased.delete(runId);
    await executor.journal.leases.claim(runId, (error) => {
      process.emitWarning(error.message, { code: 'AGENTPOOL_LEASE_LOST' });
      const stop = this.#leased.get(runId);
      if (typeof stop === 'function') stop();
      else this.#leased.set(runId, true);
    });
    try {
      await executor.journal.begin(record(hashes, [...this.#s.services]));
    } catch (error) {
      await executor.journal.leases.release(runId).catch(() => undefined);
      throw error;
    }
  }

  /** Writes run `runId`'s terminal entries (connected runs only). */
  journalEnd(runId: string): ((result: TaskResult) => Promise<void>) | undefined {
    const journal = this.#ready?.journal;
    return journal && ((result) => journal.end(runId, result));
  }

  /** Stops run `runId` (`stop`) if another planner takes it over (at once if one has). */
  onLeaseLost(runId: string, stop: () => void): void {
    if (this.#leased.get(runId) === true) stop();
    else this.#leased.set(runId, stop);
  }

  /** A run ended: its lease goes (a later planner may take the id at once). */
  release(runId: string): void {
    this.#leased.delete(runId);
    void this.#executor?.then((c) => c.journal.leases.release(runId)).catch(() => undefined);
  }
}

/** The agents a DAG's tasks name (whatever is malformed is left to the DAG's validation). */
export function agentsOf(dag: DagInput): string[] {
  if (typeof dag !== 'object' || dag === null) return [];
  const names = new Set<string>();
  try {
    for (const task of Object.values(dag)) {
      const agent = (task as { agent?: unknown } | null)?.agent;
      if (typeof agent === 'string') names.add(agent);
    }
  } catch {
    // A getter or proxy that throws: compiling the DAG reports it, coded.
  }
  return [...names];
}

/** What a run's record is made of. */
export interface RecordParts {
  runId: string;
  dag: DagInput | null;
  agents: ReadonlyMap<string, RunAgent>;
  hashes: ReadonlyMap<string, string>;
  services: string[];
  options: ParsedExecuteOptions;
  runtime: ResolvedOptions;
}

/** The run's record for its journal: the options as the run applies them (see `runSettings`). */
export function runRecord(parts: RecordParts): RunRecord {
  const { options, runtime } = parts;
  const { retries, timeoutMs, timeoutGraceMs, limits, encoding, countTokens, cache } = runtime;
  return {
    v: 1,
    runId: parts.runId,
    startedAt: Date.now(),
    dag: parts.dag,
    agents: Object.fromEntries(parts.agents),
    hashes: Object.fromEntries(parts.hashes),
    options: {
      context: options.context,
      failFast: options.failFast ?? runtime.failFast,
      runTokens: options.runTokens ?? runtime.runTokens,
      cache: options.cache,
    },
    runtime: {
      retries,
      timeoutMs,
      timeoutGraceMs,
      limits,
      encoding,
      countTokens,
      cache: cache === false ? false : 'dir' in cache ? { dir: resolve(cache.dir) } : 'store',
    },
    services: parts.services,
  };
}
