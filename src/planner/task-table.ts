import type { Graph } from '../dag/graph.js';
import type { TaskResult, TaskStatus } from '../results.js';
import type { TaskError } from '../shared/errors.js';
import type { Ending } from './judge.js';

/** Where a cached result's output came from (see `TaskResult`). */
export type CachedFrom = NonNullable<Extract<TaskResult, { status: 'done' }>['cachedFrom']>;

/** Where a task stands in its run. Ready covers the ready heap and the parked heaps. */
export const TaskState = {
  Waiting: 0,
  Ready: 1,
  Running: 2,
  Backoff: 3,
  Ended: 4,
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

const NAMES = ['waiting', 'ready', 'running', 'backoff', 'ended'];
const bit = (...states: TaskState[]) => states.reduce<number>((mask, s) => mask | (1 << s), 0);
// Per state, the states a task may move to from it.
const LEGAL: readonly number[] = [
  bit(TaskState.Ready, TaskState.Ended), // waiting: its dependencies ended (run it, or skip it)
  bit(TaskState.Running, TaskState.Ended), // ready: launched, or ended by a stop
  // running: ended; a retry's backoff; back to ready when its attempt never began
  bit(TaskState.Ended, TaskState.Backoff, TaskState.Ready),
  bit(TaskState.Ready, TaskState.Ended), // backoff: its wait is over, or a stop ended it
  0, // ended: final
];

/**
 * A run's tasks as flat typed arrays, by task index. Every change of state
 * goes through `move`, which rejects a move from a state the task is not in
 * or along an edge the lifecycle does not have: a bug in the planner shows
 * up as an error at the line that made it, not as a task ending twice.
 */
export class TaskTable {
  readonly size: number;
  readonly #state: Uint8Array;
  /** Dependencies of each task that have not ended yet. */
  readonly pendingDeps: Int32Array;
  /** Attempts begun so far (the current one's number while running). */
  readonly attempts: Int32Array;
  readonly tokens: Float64Array;
  /** When the task first became ready (NaN: never). */
  readonly queuedAt: Float64Array;
  /** When its current attempt became ready (differs from queuedAt after a retry's backoff). */
  readonly readyAt: Float64Array;
  readonly results: (TaskResult | undefined)[];
  readonly outputs: unknown[];
  /** For skipped tasks, the failed tasks upstream that caused it. */
  readonly upstream: (string[] | undefined)[];
  #ended = 0;

  constructor(graph: Graph) {
    const n = graph.ids.length;
    this.size = n;
    this.#state = new Uint8Array(n);
    this.pendingDeps = new Int32Array(n);
    for (let i = 0; i < n; i++)
      this.pendingDeps[i] = (graph.depStart[i + 1] as number) - (graph.depStart[i] as number);
    this.attempts = new Int32Array(n);
    this.tokens = new Float64Array(n);
    this.queuedAt = new Float64Array(n).fill(Number.NaN);
    this.readyAt = new Float64Array(n);
    this.results = new Array(n);
    this.outputs = new Array(n);
    this.upstream = new Array(n);
  }

  state(i: number): TaskState {
    return this.#state[i] as TaskState;
  }

  /** Tasks that have ended. */
  get ended(): number {
    return this.#ended;
  }

  /** Moves task `i` from `from` to `to`; throws if it is not in `from` or the move is not a lifecycle edge. */
  move(i: number, from: TaskState, to: TaskState): void {
    const state = this.#state[i] as TaskState;
    if (state !== from || ((LEGAL[from] as number) & (1 << to)) === 0) {
      throw new Error(
        `planner bug: task #${i} cannot move ${NAMES[from]} -> ${NAMES[to]} (it is ${NAMES[state]})`,
      );
    }
    this.#state[i] = to;
    if (to === TaskState.Ended) this.#ended++;
  }

  /** Ends task `i` (from `from`) with its final result. */
  end(i: number, from: TaskState, result: TaskResult): void {
    this.move(i, from, TaskState.Ended);
    this.results[i] = result;
    if (result.status === 'done') this.outputs[i] = result.output;
  }

  /**
   * The result of a task ending now, from how its last attempt ended, and
   * for one whose output came from the task cache, where it came from. No
   * spreads: a fully cached 100k-task run makes all its results in one go,
   * and each spread was a second object.
   */
  result(
    i: number,
    id: string,
    agent: string,
    status: TaskStatus,
    ending: Ending,
    cachedFrom?: CachedFrom,
  ): TaskResult {
    const queued = this.queuedAt[i] as number;
    const queuedAt = Number.isNaN(queued) ? null : queued;
    const { startedAt, finishedAt, threadId } = ending;
    const attempts = this.attempts[i] as number;
    const durationMs = startedAt === null ? 0 : Math.max(0, finishedAt - startedAt);
    const tokens = this.tokens[i] as number;
    const cpuMs = ending.cpuMs ?? 0;
    if (status !== 'done') {
      const error = ending.error as TaskError;
      const ended: TaskResult = {
        id,
        agent,
        status,
        attempts,
        queuedAt,
        startedAt,
        finishedAt,
        durationMs,
        threadId,
        tokens,
        cpuMs,
        error,
      };
      if (ending.worker !== undefined) ended.worker = ending.worker;
      return ended;
    }
    const done: Extract<TaskResult, { status: 'done' }> = {
      id,
      agent,
      status,
      attempts,
      queuedAt,
      startedAt,
      finishedAt,
      durationMs,
      threadId,
      tokens,
      cpuMs,
      output: ending.output,
    };
    if (ending.worker !== undefined) done.worker = ending.worker;
    if (cachedFrom !== undefined) {
      done.cached = true;
      done.cachedFrom = cachedFrom;
    }
    return done;
  }
}
