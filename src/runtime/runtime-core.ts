import { randomUUID } from 'node:crypto';
import { resolveAgents } from '../agents.js';
import { TaskCache } from '../cache/task-cache.js';
import type { Graph } from '../dag/graph.js';
import type { DagInput } from '../dag/schema.js';
import { Listeners } from '../events.js';
import {
  type ExecuteOptions,
  executeOptionsSchema,
  parseOptions,
  type ResolvedOptions,
  type RuntimeOptions,
  resolveOptions,
} from '../options.js';
import type { Run } from '../planner/run.js';
import type { RunAgent } from '../planner/run-settings.js';
import type { Slots } from '../planner/slots.js';
import type { Executor } from '../pool/executor.js';
import { HostBridge } from '../pool/host-bridge.js';
import { now } from '../shared/clock.js';
import { AgentpoolError, type TaskError } from '../shared/errors.js';
import type { ChannelEvent } from '../shared/protocol.js';
import { type RuntimeStats, StatsRecorder } from '../stats.js';
import type { Tap } from '../stream.js';
import { ClusterLink, runRecord } from './cluster-link.js';
import type { Batches } from './fan-out.js';
import {
  checkContext,
  createExecutor,
  dispatchBudget,
  type ParsedExecuteOptions,
} from './run-setup.js';
import { checkRunId, type RunHost, startRun } from './start-run.js';

/**
 * The engine behind a `Runtime`'s public methods: its options and agents,
 * its runs, and the executor (threads, or the queue with `redis`), made on
 * the first run and ended by `close`. Private: `src/index.ts` does not
 * export it.
 */
export class RuntimeCore {
  readonly options: ResolvedOptions;
  readonly agents: Map<string, RunAgent>;
  readonly agentNames: Set<string>;
  readonly listeners = new Listeners();
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

  constructor(options: RuntimeOptions) {
    this.options = resolveOptions(options);
    this.agents = resolveAgents(this.options.agents);
    this.agentNames = new Set(this.agents.keys());
    const { cache } = this.options;
    this.#cache = cache === false ? undefined : new TaskCache(cache);
    this.#bridge = new HostBridge(this.options.host, {
      event: (event) => this.#channelEvent(event),
      stray: (error) => this.#strayError(error),
    });
    const { redis, timeoutGraceMs, host } = this.options;
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

  /** Whether runs go to worker processes through Redis (`redis` is set). */
  get clustered(): boolean {
    return this.options.redis !== undefined;
  }

  stats(): RuntimeStats {
    return {
      threads: this.options.threads,
      liveThreads: this.#executor?.liveThreads() ?? 0,
      stuckThreads: this.#stuckThreads(),
      activeRuns: this.#active.size,
      utilization:
        this.options.threads === 0 ? null : this.#stats.utilization(this.options.threads, now()),
      ...this.#stats.snapshot(),
      listenerErrors: this.listeners.errors,
      strayErrors: this.#strayErrors,
    };
  }

  #stuckThreads(): number {
    this.#stuckBefore = Math.max(this.#stuckBefore, this.#executor?.stuckThreads() ?? 0);
    return this.#stuckBefore;
  }

  async close(options: { cancel?: boolean }): Promise<void> {
    this.#closed = true;
    if (options.cancel) for (const run of this.#active.values()) run.cancel();
    await Promise.all([...this.#active.values()].map((run) => run.done));
    this.#stuckThreads();
    await this.#executor?.close();
    this.#executor = undefined;
    this.#cache?.close();
  }

  #slots(executor: Executor): Slots {
    this.#dispatch ??= dispatchBudget(executor, this.options);
    return this.#dispatch;
  }

  #pool(): Executor {
    if (this.#executor === undefined) {
      this.#executor = createExecutor(this.options, this.#bridge);
      this.#stats.started(now());
    }
    return this.#executor;
  }

  /**
   * With `redis`, before a run starts: validates the DAG (`compile`),
   * connects once (the queue executor replaces local threads), refuses the
   * run unless live workers have each agent it needs with this process's
   * module hash, leases the run id (a random one if none was given) and
   * journals the run's record. Returns the graph and the options the run
   * starts with (its id set).
   */
  async clusterRun(
    dag: DagInput | null,
    compile: () => Graph,
    input: ParsedExecuteOptions,
  ): Promise<{ compile: () => Graph; options: ParsedExecuteOptions }> {
    const cluster = this.#cluster as ClusterLink;
    this.#checkOpen();
    const graph = compile();
    const runId = input.runId ?? randomUUID();
    checkRunId(this.#active, runId);
    checkContext(input.context);
    const executor = await cluster.connect();
    if (this.#executor === undefined) {
      this.#executor = executor;
      this.#stats.started(now());
    }
    const agents = new Map<string, RunAgent>();
    for (const task of graph.tasks) {
      const agent = this.agents.get(task.agent);
      if (agent !== undefined) agents.set(task.agent, agent);
    }
    const modules = new Map([...agents].map(([name, agent]) => [name, agent.module]));
    await cluster.begin(executor, modules, runId, (hashes, services) =>
      runRecord({ runId, dag, agents, hashes, services, options: input, runtime: this.options }),
    );
    return { compile: () => graph, options: { ...input, runId } };
  }

  start(
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
    return this.startParsed(compile, options, tap, batches);
  }

  #checkOpen(): void {
    if (this.#closed)
      throw new AgentpoolError('ERR_RUNTIME_CLOSED', 'this runtime is closed; create a new one');
  }

  /** Starts a run with options already parsed (`start` parses them). */
  startParsed(
    compile: () => Graph,
    options: ParsedExecuteOptions,
    tap?: Tap,
    batches?: Batches,
  ): Run {
    this.#checkOpen();
    this.#host ??= {
      options: this.options,
      agents: this.agents,
      listeners: this.listeners,
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
