import type { Graph } from '../dag/graph.js';
import type { TaskSpec } from '../dag/schema.js';
import type { EventMap, TaskEvent } from '../events.js';
import type { TaskResult } from '../results.js';
import { now } from '../shared/clock.js';
import type { TaskError } from '../shared/errors.js';
import type { ChannelEvent } from '../shared/protocol.js';
import type { Attempt } from './attempt.js';
import type { Ending } from './judge.js';
import type { RunSettings } from './run-settings.js';

type Progress = 'queued' | 'started' | 'retry' | 'cached';
type Extra<T extends Progress> = Omit<
  Extract<TaskEvent, { type: T }>,
  'type' | 'runId' | 'id' | 'agent' | 'at'
>;

type EventSettings = Pick<RunSettings, 'runId' | 'emit' | 'listening' | 'journalEnd'>;

/**
 * A run's events, built only when someone listens. With a journal
 * (`journalEnd`), a task's end is announced only once its terminal entry is
 * written (write-ahead), and every event after it waits behind it, so the
 * order holds.
 */
export class RunEvents {
  readonly #s: EventSettings;
  readonly #graph: Graph;
  // Events waiting behind a terminal entry being written, and their chain.
  #queued = 0;
  #chain: Promise<void> = Promise.resolve();

  constructor(settings: EventSettings, graph: Graph) {
    this.#s = settings;
    this.#graph = graph;
  }

  /** Emits at once, or after what is queued (no closure unless something is). */
  #emit<E extends keyof EventMap>(name: E, event: EventMap[E]): void {
    if (this.#queued === 0) this.#s.emit(name, event);
    else this.#later(() => this.#s.emit(name, event));
  }

  #later(send: () => void | Promise<void>): void {
    this.#queued++;
    this.#chain = this.#chain
      .then(send)
      .catch(() => undefined)
      .then(() => {
        this.#queued--;
      });
  }

  /** Calls `then` once every terminal entry is written and its event sent: at once without a journal. */
  whenDrained(then: () => void): void {
    if (this.#s.journalEnd === undefined) then();
    else void this.#chain.then(then);
  }

  /** Whether anyone listens to task events (a caller may then skip building an event's extras). */
  get listened(): boolean {
    return this.#s.listening('task');
  }

  /** A task was queued, started, is waiting to retry, or came from the cache. */
  task<T extends Progress>(type: T, i: number, extra: Extra<T>): void {
    if (!this.#s.listening('task')) return;
    const base = {
      runId: this.#s.runId,
      id: this.#graph.ids[i] as string,
      agent: (this.#graph.tasks[i] as TaskSpec).agent,
      at: now(),
    };
    this.#emit('task', { ...base, type, ...extra } as EventMap['task']);
  }

  /** Task `i`'s attempt failed (`ending`) and another follows after `delayMs`. */
  retry(i: number, attempt: number, delayMs: number, error: TaskError, ending: Ending): void {
    if (!this.#s.listening('task')) return;
    const { startedAt, finishedAt, threadId, worker } = ending;
    this.task('retry', i, { attempt, delayMs, error, startedAt, finishedAt, threadId, worker });
  }

  /** A task ended with `result`. */
  ended(result: TaskResult): void {
    const journal = this.#s.journalEnd;
    if (journal !== undefined) {
      // Written now (Redis pipelines the writes), announced once written.
      const written = journal(result).catch((error: unknown) =>
        process.emitWarning(
          `task ${JSON.stringify(result.id)} of run ${JSON.stringify(this.#s.runId)}: its terminal entry was not journaled: ${(error as Error).message}`,
          { code: 'AGENTPOOL_JOURNAL_WRITE' },
        ),
      );
      this.#later(() => written.then(() => this.#ended(result)));
      return;
    }
    this.#ended(result);
  }

  #ended(result: TaskResult): void {
    if (!this.#s.listening('task')) return;
    const { id, agent, status: type, finishedAt: at } = result;
    const event = { type, runId: this.#s.runId, id, agent, at, result };
    // A final event's type is its result's status (TaskEvent ties them; TS cannot see it here).
    this.#s.emit('task', event as EventMap['task']);
  }

  /** A progress report or chunk an attempt sent. */
  channel(kind: 'progress' | 'chunk', attempt: Attempt, event: ChannelEvent): void {
    const base = {
      runId: this.#s.runId,
      id: event.taskId,
      agent: attempt.request.agent,
      attempt: event.attempt,
      threadId: attempt.threadId,
      at: now(),
    };
    if (kind === 'chunk') {
      this.#emit('chunk', { ...base, type: 'chunk', chunk: event.payload });
    } else {
      const { fraction, message } = event.payload as { fraction: number; message?: string };
      this.#emit('progress', { ...base, type: 'progress', fraction, message });
    }
  }
}
