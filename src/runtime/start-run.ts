import { randomUUID } from 'node:crypto';
import { prepareRunCache } from '../cache/runtime-hook.js';
import type { TaskCache } from '../cache/task-cache.js';
import type { Graph } from '../dag/graph.js';
import type { Listeners } from '../events.js';
import type { ResolvedOptions } from '../options.js';
import { Run } from '../planner/run.js';
import type { RunAgent } from '../planner/run-settings.js';
import type { Slots } from '../planner/slots.js';
import type { Executor } from '../pool/executor.js';
import { describe, OptionsError } from '../shared/errors.js';
import type { StatsRecorder } from '../stats.js';
import type { Tap } from '../stream.js';
import type { ClusterLink } from './cluster-link.js';
import type { Batches } from './fan-out.js';
import { checkContext, type ParsedExecuteOptions, runSettings } from './run-setup.js';

/** What a run borrows from its `Runtime` (the runtime's own parts, shared by all its runs). */
export interface RunHost {
  readonly options: ResolvedOptions;
  readonly agents: Map<string, RunAgent>;
  readonly listeners: Listeners;
  readonly stats: StatsRecorder;
  readonly active: Map<string, Run>;
  readonly cache: TaskCache | undefined;
  readonly cluster: ClusterLink | undefined;
  /** The executor, started on first use. */
  pool(): Executor;
  /** The dispatch budget shared by every run on that executor. */
  slots(executor: Executor): Slots;
}

/**
 * Starts a run with options already parsed: checks the run id and context,
 * compiles the graph, prepares the cache and starts the planner. Kept out of
 * `Runtime` so that class stays its public API.
 */
export function startRun(
  host: RunHost,
  compile: () => Graph,
  options: ParsedExecuteOptions,
  tap?: Tap,
  batches?: Batches,
): Run {
  const runId = options.runId ?? randomUUID();
  checkRunId(host.active, runId);
  checkContext(options.context);
  const graph = compile();
  const cache = prepareRunCache(host.cache, options.cache, batches !== undefined, {
    runId,
    graph,
    agents: host.agents,
    context: options.context,
    encoding: host.options.encoding,
  });
  const executor = host.pool();
  const run = new Run(
    runSettings({
      runId,
      graph,
      batches,
      options,
      runtime: host.options,
      agents: host.agents,
      executor,
      slots: host.slots(executor),
      cache: cache instanceof Promise ? undefined : cache,
      journalEnd: host.cluster?.journalEnd(runId),
      stats: host.stats,
      emit: (name, event) => {
        host.listeners.emit(name, event);
        tap?.(name, event);
      },
      listening: (name) => tap !== undefined || host.listeners.has(name),
    }),
  );
  host.active.set(runId, run);
  host.cluster?.onLeaseLost(runId, () => run.cancel('lease-lost'));
  void run.done.then(() => {
    host.active.delete(runId);
    host.cluster?.release(runId);
  });
  if (cache instanceof Promise) void cache.then((ready) => run.start(ready));
  else run.start();
  return run;
}

/** Throws `OptionsError` when a run of this runtime still runs under `runId`. */
export function checkRunId(active: ReadonlyMap<string, Run>, runId: string): void {
  if (active.has(runId)) {
    throw new OptionsError(
      `runId: expected an id no running run of this runtime has, got ${describe(runId)}`,
    );
  }
}
