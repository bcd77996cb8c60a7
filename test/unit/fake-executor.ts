// A fake executor and a harness that drives the planner with it under vitest's
// fake timers (the virtual clock: `now()`, backoff, watchdogs, event waits).
// Nothing here runs on a thread or sleeps: a test says when each attempt
// begins and how it ends, and advances the clock.
import { vi } from 'vitest';
import type { DagInput } from '../../src/dag/schema.js';
import { compileDag } from '../../src/dag/validate.js';
import type { EventMap } from '../../src/events.js';
import { estimateCosts, upwardRanks } from '../../src/planner/rank.js';
import { Run } from '../../src/planner/run.js';
import type { RunAgent, RunSettings } from '../../src/planner/run-settings.js';
import { Slots } from '../../src/planner/slots.js';
import type {
  Executor,
  Outcome,
  Probe,
  StopResult,
  Submission,
  SubmitHints,
} from '../../src/pool/executor.js';
import type { RunResult } from '../../src/results.js';
import { retryPolicySchema } from '../../src/retry.js';
import { now } from '../../src/shared/clock.js';
import type { TaskReply, TaskRequest } from '../../src/shared/protocol.js';

/** One attempt handed to the fake executor, with the test's controls. */
export class FakeSubmission implements Submission {
  readonly request: TaskRequest;
  readonly hints: SubmitHints;
  readonly threadId: number;
  readonly outcome: Promise<Outcome>;
  #resolve!: (outcome: Outcome) => void;
  #phase: Probe = { phase: 'waiting' };
  aborted: 'stop' | 'breach' | undefined;
  overdueCalls = 0;
  #done = false;

  constructor(request: TaskRequest, hints: SubmitHints, threadId: number) {
    this.request = request;
    this.hints = hints;
    this.threadId = threadId;
    this.outcome = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  get id(): string {
    return this.request.taskId;
  }

  get done(): boolean {
    return this.#done;
  }

  /** It begins on its thread now. */
  begin(): this {
    this.#phase = { phase: 'running', startedAt: now(), activeMs: 0 };
    return this;
  }

  /** It finished on its thread; its reply is still to come. */
  finishSilently(): this {
    const startedAt = 'startedAt' in this.#phase ? this.#phase.startedAt : now();
    this.#phase = { phase: 'finished', startedAt };
    return this;
  }

  /** Ends it with `reply` (begun first if it had not). */
  reply(fields: { ok: true; output?: unknown } | { ok: false; code: string }, events = 0): void {
    if (this.#phase.phase === 'waiting') this.begin();
    const startedAt = 'startedAt' in this.#phase ? this.#phase.startedAt : now();
    const base = {
      startedAt,
      finishedAt: now(),
      threadId: this.threadId,
      tokens: 0,
      cpuMs: 0,
      events,
    };
    const reply: TaskReply = fields.ok
      ? { ...base, ok: true, output: fields.output }
      : {
          ...base,
          ok: false,
          error: { code: fields.code, name: 'Error', message: `${this.id} failed` },
        };
    this.#end({ kind: 'replied', reply });
  }

  refuse(): void {
    this.#end({ kind: 'refused' });
  }

  #end(outcome: Outcome): void {
    if (this.#done) return;
    this.#done = true;
    this.#phase = { phase: 'gone' };
    this.#resolve(outcome);
  }

  probe(): Probe {
    return this.#phase;
  }

  withdraw(): boolean {
    if (this.#done || this.#phase.phase !== 'waiting') return false;
    this.#end({ kind: 'withdrawn' });
    return true;
  }

  /** What the next abort reports about its thread. */
  stopResult: StopResult = 'terminated';

  abort(why: 'stop' | 'breach'): Promise<StopResult> {
    if (this.#done) return Promise.resolve('not-running');
    const running = this.#phase.phase !== 'waiting';
    this.aborted = why;
    this.#end({ kind: 'aborted' });
    return Promise.resolve(running ? this.stopResult : 'not-running');
  }

  overdue(): void {
    this.overdueCalls++;
  }
}

/** An executor whose attempts end only when the test says so. */
export class FakeExecutor implements Executor {
  readonly threads: number;
  readonly terminates = true;
  readonly submitted: FakeSubmission[] = [];
  /** Whether a memory profile has room (default: always). */
  room: (memoryMb: number | undefined) => boolean = () => true;

  constructor(threads: number) {
    this.threads = threads;
  }

  hasRoom(memoryMb: number | undefined): boolean {
    return this.room(memoryMb);
  }

  submit(request: TaskRequest, hints: SubmitHints): FakeSubmission {
    // Thread ids as a real pool hands them: the deck target's, else the next in turn.
    const threadId = hints.behind ?? 1 + (this.submitted.length % this.threads);
    const submission = new FakeSubmission(request, hints, threadId);
    this.submitted.push(submission);
    return submission;
  }

  /** Attempts of `taskId` in submission order. */
  of(taskId: string): FakeSubmission[] {
    return this.submitted.filter((s) => s.id === taskId);
  }

  /** The latest attempt of `taskId`. */
  last(taskId: string): FakeSubmission {
    const all = this.of(taskId);
    const last = all[all.length - 1];
    if (last === undefined) throw new Error(`no attempt of ${taskId} was submitted`);
    return last;
  }

  /** Task ids submitted, in order. */
  order(): string[] {
    return this.submitted.map((s) => s.id);
  }

  /** Attempts neither ended nor taken back. */
  open(): FakeSubmission[] {
    return this.submitted.filter((s) => !s.done);
  }

  liveThreads(): number {
    return this.threads;
  }

  stuckThreads(): number {
    return 0;
  }

  async close(): Promise<void> {}
}

export interface HarnessOptions {
  threads?: number;
  perThread?: number;
  /** Agents: name -> concurrency cap (default: every agent the DAG names, uncapped). */
  agents?: Record<string, number>;
  /** Each agent's mean attempt time so far, in ms (for `short`). */
  meanMs?: Record<string, number>;
  retry?: Partial<RunSettings['retry']>;
  failFast?: boolean;
  runTokens?: number;
  timeoutMs?: number;
  timeoutGraceMs?: number;
  signal?: AbortSignal;
  batches?: Map<string, { ids: string[]; prompts: string[] }>;
  /** The run's journal of terminal entries (a cluster run's). */
  journalEnd?: RunSettings['journalEnd'];
}

/** A run of `dag` on a fake executor. Call inside `vi.useFakeTimers()`. */
export function harness(dag: DagInput, options: HarnessOptions = {}) {
  const threads = options.threads ?? 1;
  const names = new Set(Object.values(dag).map((task) => task.agent));
  for (const name of Object.keys(options.agents ?? {})) names.add(name);
  const agents = new Map<string, RunAgent>(
    [...names].map((name) => [
      name,
      { module: `fake:${name}`, concurrency: options.agents?.[name] ?? Number.POSITIVE_INFINITY },
    ]),
  );
  const graph = compileDag(dag, new Set(names));
  const meanMs = (agent: string) => options.meanMs?.[agent];
  const cost = estimateCosts(graph, meanMs);
  const rank = upwardRanks(graph, cost);
  const executor = new FakeExecutor(threads);
  const slots = new Slots(threads, options.perThread ?? 1);
  const events: EventMap['task'][] = [];
  const run = new Run({
    runId: 'fake-run',
    graph,
    cost,
    rank,
    agents,
    context: {},
    failFast: options.failFast ?? false,
    retry: retryPolicySchema.parse({ jitter: false, ...options.retry }),
    timeoutMs: options.timeoutMs ?? 1_000,
    timeoutGraceMs: options.timeoutGraceMs ?? 100,
    limits: {},
    encoding: 'o200k_base',
    countTokens: false,
    batches:
      options.batches &&
      new Map([...options.batches].map(([id, b]) => [graph.indexOf.get(id) as number, b])),
    runTokens: options.runTokens,
    slots,
    executor,
    signal: options.signal,
    journalEnd: options.journalEnd,
    random: () => 1,
    emit: (name, event) => {
      if (name === 'task') events.push(event as EventMap['task']);
    },
    listening: () => true,
    meanMs,
    recordAttempt: () => {},
    recordBusy: () => {},
  });
  let result: RunResult | undefined;
  void run.done.then((r) => {
    result = r;
  });
  return {
    run,
    executor,
    slots,
    events,
    /** Event types of task `id`, in order. */
    eventsOf: (id: string) => events.filter((e) => e.id === id).map((e) => e.type),
    /** The result once the run is done (after `settle()`), else undefined. */
    result: () => result,
    /** Lets every pending promise and microtask run (the clock does not move). */
    settle: () => vi.advanceTimersByTimeAsync(0),
    /** Moves the virtual clock. */
    advance: (ms: number) => vi.advanceTimersByTimeAsync(ms),
  };
}
