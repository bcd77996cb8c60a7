import { compileFanOut } from './dag/fan-out.js';
import type { Graph } from './dag/graph.js';
import type { DagInput } from './dag/schema.js';
import { compileDag } from './dag/validate.js';
import type { EventName, Listener } from './events.js';
import {
  type ExecuteOptions,
  executeOptionsSchema,
  parseOptions,
  type RuntimeOptions,
} from './options.js';
import type { Run } from './planner/run.js';
import type { RunResult, TaskResult } from './results.js';
import { type Batches, batchesOf, type FanOutOptions, fanOutPlan } from './runtime/fan-out.js';
import { checkListener } from './runtime/run-setup.js';
import { RuntimeCore } from './runtime/runtime-core.js';
import type { RuntimeStats } from './stats.js';
import { type StreamItem, streamRun } from './stream.js';

export type { FanOutOptions, StreamItem };

/**
 * Runs DAGs of agent tasks on a pool of worker threads. Create one with
 * `createRuntime`, reuse it for many runs, and `close()` it when done.
 */
export class Runtime {
  readonly #core: RuntimeCore;

  /** @internal Use `createRuntime`. */
  constructor(options: RuntimeOptions = {}) {
    this.#core = new RuntimeCore(options);
  }

  /** Worker threads in the pool (0 in inline mode). */
  get threads(): number {
    return this.#core.options.threads;
  }

  /**
   * Runs a DAG and resolves with every task's result once all have ended.
   * Rejects only for bad input (a `DagValidationError` or `OptionsError`,
   * before any task starts); task failures are in the result.
   *
   * @example
   * ```ts
   * const run = await runtime.execute(
   *   {
   *     research: { agent: 'researcher', prompt: 'Research topic X' },
   *     draft: { agent: 'writer', prompt: 'Draft it', depends_on: ['research'] },
   *   },
   *   { context: { topic: 'worker threads' } },
   * );
   * run.tasks.draft.status; // 'done' | 'failed' | 'skipped' | 'cancelled'
   * ```
   */
  async execute(dag: DagInput, options?: ExecuteOptions): Promise<RunResult> {
    // Local runs start in this tick, as before (a close() right after execute() lets them finish).
    const core = this.#core;
    const run = await this.#clusterStart(dag, () => compileDag(dag, core.agentNames), options);
    return run.done;
  }

  /** Starts a run: locally in this tick; with `redis`, once it is checked, leased and journaled. */
  async #clusterStart(
    dag: DagInput | null,
    compile: () => Graph,
    options: ExecuteOptions | undefined,
    batches?: Batches,
  ): Promise<Run> {
    const core = this.#core;
    if (!core.clustered) return core.start(compile, options, undefined, batches);
    const parsed = parseOptions(executeOptionsSchema, options, 'execute options');
    const ready = await core.clusterRun(dag, compile, parsed);
    return core.startParsed(ready.compile, ready.options, undefined, batches);
  }

  /**
   * Runs a DAG and yields each task's result the moment it ends, in
   * completion order. With `{ events: true }` it yields `StreamItem`s
   * instead: each result as `{ type: 'result', result }`, with the tasks'
   * progress and chunk events interleaved (a task's always before its
   * result). Leaving the loop early cancels the rest of the run.
   *
   * @example
   * ```ts
   * for await (const result of runtime.stream(dag)) {
   *   console.log(result.id, result.status);
   * }
   * for await (const item of runtime.stream(dag, { events: true })) {
   *   if (item.type === 'chunk') process.stdout.write(String(item.chunk));
   * }
   * ```
   */
  stream(
    dag: DagInput,
    options: ExecuteOptions & { events: true },
  ): AsyncGenerator<StreamItem, void, undefined>;
  stream(
    dag: DagInput,
    options?: ExecuteOptions & { events?: false },
  ): AsyncGenerator<TaskResult, void, undefined>;
  async *stream(
    dag: DagInput,
    options: ExecuteOptions & { events?: boolean } = {},
  ): AsyncGenerator<TaskResult | StreamItem, void, undefined> {
    const { events = false, ...executeOptions } = options;
    // Parsed once, here: the run starts with these options.
    const parsed = parseOptions(executeOptionsSchema, executeOptions, 'execute options');
    // Local runs start in this tick, as before (a close() right after execute() lets them finish).
    const core = this.#core;
    let compile = () => compileDag(dag, core.agentNames);
    let ready = parsed;
    if (core.clustered) ({ compile, options: ready } = await core.clusterRun(dag, compile, parsed));
    yield* streamRun(
      (signal, tap) => core.startParsed(compile, { ...ready, signal }, tap),
      parsed.signal,
      events,
    );
  }

  /**
   * Runs one agent on many prompts in parallel, without a DAG. Results come
   * back in the order of `prompts`; task ids are `task_0`, `task_1`, …
   *
   * @example
   * ```ts
   * const results = await runtime.fanOut('researcher', ['a', 'b', 'c']);
   * results.map((r) => r.status); // ['done', 'done', 'done']
   * ```
   */
  async fanOut(
    agent: string,
    prompts: readonly string[],
    options: FanOutOptions = {},
  ): Promise<TaskResult[]> {
    const { task, batch, executeOptions } = fanOutPlan(agent, prompts, options);
    // Local runs start in this tick, as before (a close() right after execute() lets them finish).
    const core = this.#core;
    if (batch === 1) {
      const ids = prompts.map((_, i) => `task_${i}`);
      const entries = prompts.map((prompt, i) => [ids[i] as string, prompt] as const);
      const compile = () => compileFanOut(task, entries, core.agentNames);
      const dag = Object.fromEntries(entries.map(([id, prompt]) => [id, { ...task, prompt }]));
      const run = await this.#clusterStart(dag, compile, executeOptions);
      const result = await run.done;
      return ids.map((id) => result.tasks[id] as TaskResult);
    }
    const batches = batchesOf(prompts, batch);
    const entries = [...batches.keys()].map((id) => [id, ''] as const);
    const compile = () => compileFanOut(task, entries, core.agentNames);
    // A batched fan-out is journaled without its DAG: it cannot be resumed.
    const run = await this.#clusterStart(null, compile, executeOptions, batches);
    await run.done;
    return [...batches.keys()].flatMap((id) => run.promptResults(id));
  }

  /**
   * Subscribes to events of every run: `'task'` (a task's lifecycle, see
   * `TaskEvent`), `'progress'` (`ctx.progress`) or `'chunk'` (`ctx.emit`).
   * A listener that throws or rejects never breaks a run. Returns an
   * unsubscribe function.
   *
   * @example
   * ```ts
   * const off = runtime.on('task', (event) => {
   *   if (event.type === 'failed') console.error(event.id, event.result.error.code);
   * });
   * runtime.on('chunk', (event) => process.stdout.write(String(event.chunk)));
   * ```
   */
  on<E extends EventName>(name: E, listener: Listener<E>): () => void {
    checkListener(name, listener);
    return this.#core.listeners.add(name, listener);
  }

  /** Removes a listener added with `on`. */
  off<E extends EventName>(name: E, listener: Listener<E>): void {
    this.#core.listeners.delete(name, listener);
  }

  /** Threads, per-agent counts and timing, queue wait and run time percentiles. */
  stats(): RuntimeStats {
    return this.#core.stats();
  }

  /**
   * Stops accepting runs, lets runs in progress finish (or cancels them with
   * `{ cancel: true }`), then terminates the threads.
   */
  close(options: { cancel?: boolean } = {}): Promise<void> {
    return this.#core.close(options);
  }
}

/**
 * Creates a runtime: a pool of worker threads and the agents they run.
 *
 * @example
 * ```ts
 * import { createRuntime } from 'agentpool';
 * const runtime = createRuntime({
 *   threads: 4,
 *   agents: { researcher: new URL('./agents/researcher.js', import.meta.url) },
 * });
 * const run = await runtime.execute({ research: { agent: 'researcher', prompt: 'Topic X' } });
 * await runtime.close();
 * ```
 */
export function createRuntime(options?: RuntimeOptions): Runtime {
  return new Runtime(options);
}
