import type { z } from 'zod';
import type { RunCache } from '../cache/run-cache.js';
import type { Graph } from '../dag/graph.js';
import type { EventMap } from '../events.js';
import type { executeOptionsSchema, ResolvedOptions } from '../options.js';
import { estimateCosts, upwardRanks } from '../planner/rank.js';
import type { RunAgent, RunSettings } from '../planner/run-settings.js';
import { Slots } from '../planner/slots.js';
import type { Executor } from '../pool/executor.js';
import type { HostBridge } from '../pool/host-bridge.js';
import { InlinePool } from '../pool/inline-pool.js';
import { Pools } from '../pool/pools.js';
import { describe, OptionsError } from '../shared/errors.js';
import type { StatsRecorder } from '../stats.js';
import type { Batches } from './fan-out.js';

/** A run's options as `execute` parsed them. */
export type ParsedExecuteOptions = z.output<typeof executeOptionsSchema>;

/** Throws `OptionsError` unless the run's context can be sent to worker threads. */
export function checkContext(context: Record<string, unknown>): void {
  try {
    // zod made the context a fresh plain object: with no keys there is nothing to check.
    for (const _ in context) {
      structuredClone(context);
      break;
    }
  } catch (cause) {
    throw new OptionsError(
      `context: expected a structured-clonable value (it is sent to worker threads), got one that is not: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/** The runtime's executor: the inline one for `threads: 0`, else the worker pools. */
export function createExecutor(options: ResolvedOptions, bridge: HostBridge): Executor {
  const { threads, balance, idleTimeoutMs, inFlightPerThread } = options;
  return threads === 0
    ? new InlinePool(bridge)
    : new Pools({ threads, balance, idleTimeoutMs, inFlightPerThread, bridge });
}

/** The runtime's dispatch budget, shared by its runs. Inline mode runs one attempt at a time, however short. */
export function dispatchBudget(executor: Executor, options: ResolvedOptions): Slots {
  return new Slots(executor.threads, options.threads === 0 ? 1 : options.inFlightPerThread);
}

/** Throws `OptionsError` unless `on`/`off` got an event name and a function. */
export function checkListener(name: unknown, listener: unknown): void {
  if (name !== 'task' && name !== 'progress' && name !== 'chunk') {
    throw new OptionsError(`event: expected "task", "progress" or "chunk", got ${describe(name)}`);
  }
  if (typeof listener !== 'function') {
    throw new OptionsError(`listener: expected a function, got ${describe(listener)}`);
  }
}

/** What a runtime hands over to make one run. */
export interface RunParts {
  runId: string;
  graph: Graph;
  batches: Batches | undefined;
  options: ParsedExecuteOptions;
  runtime: ResolvedOptions;
  agents: ReadonlyMap<string, RunAgent>;
  executor: Executor;
  slots: Slots;
  cache: RunCache | undefined;
  journalEnd: RunSettings['journalEnd'];
  stats: StatsRecorder;
  emit<E extends keyof EventMap>(name: E, event: EventMap[E]): void;
  listening(name: keyof EventMap): boolean;
}

/**
 * The settings of one run: the runtime's options under the call's, the
 * DAG's critical-path ranks (costs from hints, else the agents' observed
 * means), and the runtime's statistics as callbacks.
 */
export function runSettings(parts: RunParts): RunSettings {
  const { graph, options, runtime, stats } = parts;
  const cost = estimateCosts(graph, (agent) => stats.meanMs(agent));
  const rank = upwardRanks(graph, cost);
  const { timeoutMs, timeoutGraceMs, limits, encoding, countTokens, retries } = runtime;
  return {
    runId: parts.runId,
    batches:
      parts.batches &&
      new Map([...parts.batches].map(([id, batch]) => [graph.indexOf.get(id) as number, batch])),
    graph,
    cost,
    rank,
    agents: parts.agents,
    context: options.context,
    failFast: options.failFast ?? runtime.failFast,
    retry: retries,
    timeoutMs,
    timeoutGraceMs,
    limits,
    encoding,
    countTokens,
    runTokens: options.runTokens ?? runtime.runTokens,
    slots: parts.slots,
    executor: parts.executor,
    signal: options.signal,
    cache: parts.cache,
    journalEnd: parts.journalEnd,
    emit: parts.emit,
    listening: parts.listening,
    meanMs: (agent) => stats.meanMs(agent),
    recordAttempt: (agent, durationMs, waitMs, ok) => stats.attempt(agent, durationMs, waitMs, ok),
    recordBusy: (durationMs) => stats.busy(durationMs),
  };
}
