import type { Graph } from '../dag/graph.js';
import type { TaskSpec } from '../dag/schema.js';
import type { EventMap, TaskEvent } from '../events.js';
import type { TaskResult } from '../results.js';
import { now } from '../shared/clock.js';
import type { ChannelEvent } from '../shared/protocol.js';
import type { Attempt } from './attempt.js';
import type { RunSettings } from './run-settings.js';

type Progress = 'queued' | 'started' | 'retry' | 'cached';
type Extra<T extends Progress> = Omit<
  Extract<TaskEvent, { type: T }>,
  'type' | 'runId' | 'id' | 'agent' | 'at'
>;

/** A run's events, built only when someone listens. */
export class RunEvents {
  readonly #s: Pick<RunSettings, 'runId' | 'emit' | 'listening'>;
  readonly #graph: Graph;

  constructor(settings: Pick<RunSettings, 'runId' | 'emit' | 'listening'>, graph: Graph) {
    this.#s = settings;
    this.#graph = graph;
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
    this.#s.emit('task', { ...base, type, ...extra } as EventMap['task']);
  }

  /** A task ended with `result`. */
  ended(result: TaskResult): void {
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
      this.#s.emit('chunk', { ...base, type: 'chunk', chunk: event.payload });
    } else {
      const { fraction, message } = event.payload as { fraction: number; message?: string };
      this.#s.emit('progress', { ...base, type: 'progress', fraction, message });
    }
  }
}
