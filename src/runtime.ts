import { resolveAgents } from './agents.js';
import { TaskCache } from './cache/task-cache.js';
import { compileFanOut } from './dag/fan-out.js';
import type { Graph } from './dag/graph.js';
import type { DagInput } from './dag/schema.js';
import { compileDag } from './dag/validate.js';
import { AgentpoolError, type TaskError } from './errors.js';
import { type EventName, type Listener, Listeners } from './events.js';
import {
  type ExecuteOptions,
  executeOptionsSchema,
  parseOptions,
  type ResolvedOptions,
  type RuntimeOptions,
  resolveOptions,
} from './options.js';
import type { Run } from './planner/run.js';
import type { RunAgent } from './planner/run-settings.js';
import type { Slots } from './planner/slots.js';
import type { Executor } from './pool/executor.js';
import { HostBridge } from './pool/host-bridge.js';
import type { RunResult, TaskResult } from './results.js';
import { agentsOf, ClusterLink } from './runtime/cluster-link.js';
import { type Batches, batchesOf, type FanOutOptions, fanOutPlan } from './runtime/fan-out.js';
import {
  checkListener,
  createExecutor,
  dispatchBudget,
  type ParsedExecuteOptions,
} from './runtime/run-setup.js';
import { type RunHost, startRun } from './runtime/start-run.js';
import { now } from './shared/clock.js';
import type { ChannelEvent } from './shared/protocol.js';
import { type RuntimeStats, StatsRecorder } from './stats.js';
import { type StreamItem, streamRun, type Tap } from './stream.js';

export type { FanOutOptions, StreamItem };

/**
 * Runs DAGs of agent tasks on a pool of worker threads. Create one with
 * `createRuntime`, reuse it for many runs, and `close()` it when done.
 */
export class Runtime {
  readonly #options: ResolvedOptions;
  readonly #agents: Map<string, RunAgent>;
  readonly #agentNames: Set<string>;
  readonly #listeners = new Listeners();
  readonly #stats = new StatsRecorder();
  readonly #active = new Map<string, Run>();
  readonly #bridge: HostBridge;
  readonly #cache: TaskCache | undefined;
  #executor: Executor | undefined;
  readonly #cluster: ClusterLink | undefined;
  #dispatch: Slots | undefined;
  #host: RunHost | undefined;
  #closed = false;
  #strayErrors = 0;
  // Stuck threads counted so far (kept once the executor is closed).
  #stuckBefore = 0;

  /** @internal Use `createRuntime`. */
  constructor(options: RuntimeOptions = {}) {
    this.#options = resolveOptions(options);
    this.#agents = resolveAgents(this.#options.agents);
    this.#agentNames = new Set(this.#agents.keys());
    const { cache } = this.#options;
    this.#cache = cache === false ? undefined : new TaskCache(cache);
    this.#bridge = new HostBridge(
      this.#options.host,
      (event) => this.#channelEvent(event),
      (error) => this.#strayError(error),
    );
    const { redis, timeoutGraceMs, host } = this.#options;
    this.#cluster =
      redis === undefined
        ? undefined
        : new ClusterLink({ redis, timeoutGraceMs, services: Object.keys(host ?? {}) }, (event) =>
            this.#channelEvent(event),
          );
  }

  // No task fails for such an error, so a warning is how a user hears of it.
  #strayError(error: TaskError): void {
    this.#strayErrors++;
    process.emitWarning(
      // The thread's message says what happened and to which task.
      error.message,
      { code: 'AGENTPOOL_STRAY_ERROR', detail: error.stack },
    );
  }

  #channelEvent(event: ChannelEvent): void {
    this.#active.get(event.runId)?.channelEvent(event);
  }

  /** Worker threads in the pool (0 in inline mode). */
  get threads(): number {
    return this.#options.threads;
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
    if (this.#options.redis !== undefined) await this.#clusterReady(agentsOf(dag), options?.runId);
    const run = this.#start(() => compileDag(dag, this.#agentNames), options);
    return run.done;
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
    if (this.#options.redis !== undefined) await this.#clusterReady(agentsOf(dag), parsed.runId);
    yield* streamRun(
      (signal, tap) =>
        this.#startParsed(() => compileDag(dag, this.#agentNames), { ...parsed, signal }, tap),
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
    if (this.#options.redis !== undefined) await this.#clusterReady([agent], executeOptions.runId);
    if (batch === 1) {
      const ids = prompts.map((_, i) => `task_${i}`);
      const entries = prompts.map((prompt, i) => [ids[i] as string, prompt] as const);
      const run = this.#start(() => compileFanOut(task, entries, this.#agentNames), executeOptions);
      const result = await run.done;
      return ids.map((id) => result.tasks[id] as TaskResult);
    }
    const batches = batchesOf(prompts, batch);
    const entries = [...batches.keys()].map((id) => [id, ''] as const);
    const run = this.#start(
      () => compileFanOut(task, entries, this.#agentNames),
      executeOptions,
      undefined,
      batches,
    );
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
    return this.#listeners.add(name, listener);
  }

  /** Removes a listener added with `on`. */
  off<E extends EventName>(name: E, listener: Listener<E>): void {
    this.#listeners.delete(name, listener);
  }

  /** Threads, per-agent counts and timing, queue wait and run time percentiles. */
  stats(): RuntimeStats {
    return {
      threads: this.#options.threads,
      liveThreads: this.#executor?.liveThreads() ?? 0,
      stuckThreads: this.#stuckThreads(),
      activeRuns: this.#active.size,
      utilization:
        this.#options.threads === 0 ? null : this.#stats.utilization(this.#options.threads, now()),
      ...this.#stats.snapshot(),
      listenerErrors: this.#listeners.errors,
      strayErrors: this.#strayErrors,
    };
  }

  #stuckThreads(): number {
    this.#stuckBefore = Math.max(this.#stuckBefore, this.#executor?.stuckThreads() ?? 0);
    return this.#stuckBefore;
  }

  /**
   * Stops accepting runs, lets runs in progress finish (or cancels them with
   * `{ cancel: true }`), then terminates the threads.
   */
  async close(options: { cancel?: boolean } = {}): Promise<void> {
    this.#closed = true;
    if (options.cancel) for (const run of this.#active.values()) run.cancel();
    await Promise.all([...this.#active.values()].map((run) => run.done));
    this.#stuckThreads();
    await this.#executor?.close();
    this.#executor = undefined;
    this.#cache?.close();
  }

  #slots(executor: Executor): Slots {
    this.#dispatch ??= dispatchBudget(executor, this.#options);
    return this.#dispatch;
  }

  #pool(): Executor {
    if (this.#executor === undefined) {
      this.#executor = createExecutor(this.#options, this.#bridge);
      this.#stats.started(now());
    }
    return this.#executor;
  }

  /**
   * With `redis`: connects once (the queue executor replaces local threads)
   * and refuses the run unless live workers have each agent it needs with
   * this process's module hash. Without: nothing.
   */
  async #clusterReady(agentNames: Iterable<string>, runId: string | undefined): Promise<void> {
    if (this.#cluster === undefined) return;
    this.#checkOpen();
    const executor = await this.#cluster.connect();
    if (this.#executor === undefined) {
      this.#executor = executor;
      this.#stats.started(now());
    }
    const modules = new Map<string, string>();
    for (const name of agentNames) {
      const agent = this.#agents.get(name);
      if (agent !== undefined) modules.set(name, agent.module);
    }
    await this.#cluster.check(executor, modules, runId);
  }

  #start(
    compile: () => Graph,
    input: ExecuteOptions | undefined,
    tap?: Tap,
    batches?: Batches,
  ): Run {
    this.#checkOpen();
    // No options is the common call: zod's parse of {} is only its defaults.
    const options =
      input === undefined
        ? { context: {} }
        : parseOptions(executeOptionsSchema, input, 'execute options');
    return this.#startParsed(compile, options, tap, batches);
  }

  #checkOpen(): void {
    if (this.#closed)
      throw new AgentpoolError('ERR_RUNTIME_CLOSED', 'this runtime is closed; create a new one');
  }

  /** Starts a run with options already parsed (`#start` parses them). */
  #startParsed(
    compile: () => Graph,
    options: ParsedExecuteOptions,
    tap?: Tap,
    batches?: Batches,
  ): Run {
    this.#checkOpen();
    this.#host ??= {
      options: this.#options,
      agents: this.#agents,
      listeners: this.#listeners,
      stats: this.#stats,
      active: this.#active,
      cache: this.#cache,
      cluster: this.#cluster,
      pool: () => this.#pool(),
      slots: (executor) => this.#slots(executor),
    };
    return startRun(this.#host, compile, options, tap, batches);
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
