import type { RunCache } from '../cache/run-cache.js';
import type { Graph } from '../dag/graph.js';
import type { Limits } from '../dag/schema.js';
import type { EventMap } from '../events.js';
import type { Executor } from '../pool/executor.js';
import type { TaskResult } from '../results.js';
import type { RetryOverride, RetryPolicy } from '../retry.js';
import type { Encoding } from '../shared/protocol.js';
import type { Slots } from './slots.js';

/** What the run needs to know about an agent. */
export interface RunAgent {
  module: string;
  concurrency: number;
  retries?: RetryOverride | undefined;
  timeoutMs?: number | undefined;
  limits?: Limits | undefined;
  /** false: the agent's tasks are never cached. */
  cache?: boolean | undefined;
  /** The registration's `version` (part of the cache key). */
  version?: string | undefined;
}

/** Everything one run is given by its runtime. */
export interface RunSettings {
  runId: string;
  graph: Graph;
  /** Each task's estimated cost, and its critical-path rank (cost plus its dependents' longest chain). */
  cost: Float64Array;
  rank: Float64Array;
  agents: ReadonlyMap<string, RunAgent>;
  context: Record<string, unknown>;
  failFast: boolean;
  retry: RetryPolicy;
  timeoutMs: number;
  timeoutGraceMs: number;
  limits: Limits;
  encoding: Encoding;
  countTokens: boolean;
  /** Batched fan-out: by task index, the prompts (and their ids) that task runs in one message. */
  batches?: ReadonlyMap<number, { ids: string[]; prompts: string[] }> | undefined;
  /** The run's shared token budget, or undefined for none. */
  runTokens: number | undefined;
  /** The runtime's dispatch budget, shared with its other runs. */
  slots: Slots;
  executor: Executor;
  signal?: AbortSignal | undefined;
  /** Journals a task's terminal entry (runs on a cluster); its end is announced once this resolves. */
  journalEnd?: ((result: TaskResult) => Promise<void>) | undefined;
  /** The task cache, when this run uses one. */
  cache?: RunCache | undefined;
  random?: () => number;
  emit<E extends keyof EventMap>(name: E, event: EventMap[E]): void;
  /** Whether events named `name` have a listener; when not, they are not built. */
  listening(name: keyof EventMap): boolean;
  /** An agent's mean attempt time so far (ms), across runs; undefined before its first. */
  meanMs(agent: string): number | undefined;
  /** Called once per attempt that ran to a reply, for the runtime's statistics. */
  recordAttempt(agent: string, durationMs: number, waitMs: number, ok: boolean): void;
  /** Thread time an attempt held without replying (stopped by the watchdog or the run's stop), for utilization. */
  recordBusy(durationMs: number): void;
}
