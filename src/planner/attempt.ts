import type {
  Executor,
  Outcome,
  Probe,
  StopResult,
  Submission,
  SubmitHints,
} from '../pool/executor.js';
import { now } from '../shared/clock.js';
import { cpuLimitError, formatCount, taskError, toTaskError } from '../shared/errors.js';
import type { ChannelEvent, TaskReply, TaskRequest } from '../shared/protocol.js';
import type { AttemptOutcome } from './judge.js';
import type { Slots } from './slots.js';
import { Watchdog } from './watchdog.js';

// How long a reply may wait for progress/chunk events its worker says it sent.
const EVENT_DRAIN_MS = 2_000;

/** Where an attempt stands, on the planner's side. */
export type AttemptState =
  /** With the executor: waiting for a thread, or running. */
  | { kind: 'handed' }
  /** Posted to a busy thread behind `ahead`'s attempt, to follow it there. */
  | { kind: 'onDeck'; ahead: Attempt }
  /** The watchdog is stopping it: settles `breached` once its thread has ended (or been given up on). */
  | { kind: 'stopping' }
  /** Its reply is in; some of the events it sent are not yet. */
  | { kind: 'draining'; reply: TaskReply; timer: NodeJS.Timeout }
  | { kind: 'settled'; outcome: AttemptOutcome };

/** What an attempt needs of its run. */
export interface AttemptContext {
  executor: Executor;
  slots: Slots;
  timeoutGraceMs: number;
  emit: (kind: 'progress' | 'chunk', attempt: Attempt, event: ChannelEvent) => void;
  /** The attempt has settled (called once, with how it ended). */
  settled(attempt: Attempt, outcome: AttemptOutcome): void;
}

/**
 * One attempt of one task, from the moment it is handed to the executor to
 * its end: the one owner of its lifecycle. It holds a dispatch slot, a
 * watchdog, its place on deck; `settle` is the only code that gives those
 * back and records the outcome, and it runs once whatever ended the
 * attempt (its reply, the watchdog, a withdrawal, the run's stop).
 */
export class Attempt {
  readonly task: number;
  readonly number: number;
  readonly request: TaskRequest;
  readonly short: boolean;
  readonly handedAt = now();
  state: AttemptState;
  /** The attempt on deck behind this one, if any. */
  deck: Attempt | undefined;
  /** Channel events received so far. */
  events = 0;
  readonly #context: AttemptContext;
  readonly #submission: Submission;
  readonly #watchdog: Watchdog;

  constructor(
    context: AttemptContext,
    task: number,
    request: TaskRequest,
    short: boolean,
    ahead: Attempt | undefined,
  ) {
    this.#context = context;
    this.task = task;
    this.number = request.attempt;
    this.request = request;
    this.short = short;
    context.slots.take(request.agent);
    const hints: SubmitHints = { short };
    if (ahead !== undefined) {
      this.state = { kind: 'onDeck', ahead };
      ahead.deck = this;
      context.slots.decked++;
      hints.behind = ahead.threadId ?? undefined;
    } else {
      this.state = { kind: 'handed' };
    }
    // A batch runs its prompts one after another, each with the whole timeout and CPU limit.
    const prompts = request.batch?.ids.length ?? 1;
    const cpuMs = request.limits.cpuMs;
    this.#watchdog = new Watchdog({
      timeoutMs: request.timeoutMs * prompts,
      graceMs: context.timeoutGraceMs,
      cpuMs: cpuMs === undefined ? undefined : cpuMs * prompts,
      probe: () => this.#submission.probe(),
      onOverdue: () => this.#submission.overdue(),
      onBreach: (code, probe) => this.#breach(code, probe),
    });
    this.#submission = context.executor.submit(request, hints);
    void this.#submission.outcome.then((outcome) => this.#ended(outcome));
  }

  /** The thread it was handed to, once known. */
  get threadId(): number | null {
    return this.#submission.threadId ?? null;
  }

  get live(): boolean {
    return this.state.kind !== 'settled';
  }

  /** A progress report or chunk the attempt sent. */
  event(event: ChannelEvent): void {
    if (!this.live) return;
    this.events++;
    this.#context.emit(event.kind, this, event);
    const state = this.state;
    if (state.kind === 'draining' && this.events >= state.reply.events)
      this.settle({ kind: 'replied', reply: state.reply });
  }

  /**
   * Takes the attempt back if it has not begun on its thread (it then never
   * runs): true, and it settled `withdrawn`.
   */
  withdraw(): boolean {
    const kind = this.state.kind;
    if (kind === 'draining' || kind === 'stopping' || !this.live || !this.#submission.withdraw())
      return false;
    return this.settle({ kind: 'withdrawn' });
  }

  /**
   * Ends the attempt now, as its run stops: with its reply when that is in
   * (only some events were late), else it is aborted.
   */
  stop(): boolean {
    const state = this.state;
    if (state.kind === 'draining') return this.settle({ kind: 'replied', reply: state.reply });
    // Being stopped already: it settles as breached in a moment.
    if (!this.live || state.kind === 'stopping') return false;
    const probe = this.#submission.probe();
    const startedAt = 'startedAt' in probe ? probe.startedAt : this.handedAt;
    const threadId = this.threadId;
    void this.#submission.abort('stop');
    return this.settle({ kind: 'aborted', startedAt, threadId });
  }

  /**
   * The one settle point: gives back the dispatch slot, stops the watchdog
   * and the event wait, unlinks the deck, and tells the run how it ended.
   * Idempotent: false (and nothing happens) once settled.
   */
  settle(outcome: AttemptOutcome): boolean {
    const state = this.state;
    if (state.kind === 'settled') return false;
    this.state = { kind: 'settled', outcome };
    this.#watchdog.stop();
    if (state.kind === 'draining') clearTimeout(state.timer);
    // An attempt on deck behind this one is now its thread's own; one that
    // was on deck no longer holds a place there.
    if (state.kind === 'onDeck') {
      state.ahead.deck = undefined;
      this.#context.slots.decked--;
    }
    const deck = this.deck;
    if (deck !== undefined) {
      this.deck = undefined;
      if (deck.state.kind === 'onDeck') deck.state = { kind: 'handed' };
      this.#context.slots.decked--;
    }
    this.#context.slots.give(this.request.agent);
    this.#context.settled(this, outcome);
    return true;
  }

  /** The executor let go of the attempt. Already settled (withdrawn, aborted, breached): nothing to do. */
  #ended(outcome: Outcome): void {
    if (!this.live || this.state.kind === 'stopping') return;
    // The attempt is over: no limit can be breached any more.
    this.#watchdog.stop();
    switch (outcome.kind) {
      case 'replied': {
        const reply = outcome.reply;
        if (this.events >= reply.events) this.settle({ kind: 'replied', reply });
        else {
          const timer = setTimeout(() => this.settle({ kind: 'replied', reply }), EVENT_DRAIN_MS);
          this.#setDraining(reply, timer);
        }
        return;
      }
      case 'crashed':
        this.settle(outcome);
        return;
      case 'refused':
        this.settle({ kind: 'refused' });
        return;
      default:
        // Withdrawn or aborted by someone else than this attempt: it never ran.
        this.settle({ kind: 'withdrawn' });
    }
  }

  #setDraining(reply: TaskReply, timer: NodeJS.Timeout): void {
    this.#leaveDeck();
    this.state = { kind: 'draining', reply, timer };
  }

  // Draining or being stopped, an attempt no longer waits on deck.
  #leaveDeck(): void {
    const state = this.state;
    if (state.kind !== 'onDeck') return;
    state.ahead.deck = undefined;
    this.#context.slots.decked--;
  }

  /**
   * The watchdog caught an overrun the worker could not stop: the attempt is
   * stopped, and settles once its thread has ended, so its error says what
   * happened to the thread. The slot stays taken until then: the thread is
   * not free before.
   */
  #breach(code: 'ERR_TASK_TIMEOUT' | 'ERR_CPU_LIMIT', probe: Probe): void {
    if (!this.live) return;
    const startedAt = 'startedAt' in probe ? probe.startedAt : this.handedAt;
    const activeMs = probe.phase === 'running' ? probe.activeMs : undefined;
    const threadId = this.threadId;
    // Its end is the breach: what its thread does after is not its time.
    const finishedAt = now();
    this.#leaveDeck();
    this.state = { kind: 'stopping' };
    void this.#submission.abort('breach').then((how) => {
      const error = this.#breachError(code, probe, activeMs, how);
      this.settle({
        kind: 'breached',
        error,
        ending: { startedAt, finishedAt, threadId, cpuMs: activeMs },
      });
    });
  }

  #breachError(
    code: 'ERR_TASK_TIMEOUT' | 'ERR_CPU_LIMIT',
    probe: Probe,
    activeMs: number | undefined,
    how: StopResult,
  ) {
    const { taskId, timeoutMs, limits, batch } = this.request;
    const prompts = batch?.ids.length ?? 1;
    if (code === 'ERR_CPU_LIMIT')
      return toTaskError(cpuLimitError(taskId, activeMs ?? 0, (limits.cpuMs ?? 0) * prompts));
    const stopped =
      how === 'stuck'
        ? 'its thread did not stop when terminated (it is blocked in a call Node cannot interrupt, such as a read that never returns or execSync): it was given up on and replaced, and runs on until that call returns'
        : how === 'abandoned' || !this.#context.executor.terminates
          ? 'the attempt was abandoned (inline mode cannot stop it)'
          : 'its thread was terminated';
    const replyLost =
      probe.phase === 'finished' ? ' (it had finished, but its reply never came)' : '';
    return taskError(
      code,
      `task "${taskId}" timed out after ${formatCount(timeoutMs * prompts)} ms and did not stop within ${this.#context.timeoutGraceMs} ms${replyLost}; ${stopped}`,
    );
  }
}
