import type { Writable } from 'node:stream';
import { createLogUpdate } from 'log-update';
import { now } from '../clock.js';
import type { EventMap } from '../events.js';
import type { Eta } from './eta.js';
import { cutToWidth } from './fit.js';
import { toJson } from './json.js';
import { type Paint, PLAIN } from './paint.js';
import { type TokenBudgets, tokensText } from './preview.js';
import type { Recorder, RunningTask } from './recorder.js';

/**
 * "1.5s". Never negative: a task's start is stamped by the monotonic clock
 * (`now()`, sub-millisecond), which can sit a little ahead of a wall-clock
 * reading taken just after it, so a task that has just started could
 * otherwise show "-0.0s".
 */
export function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

/** What the user watches while a run goes on. */
export interface View {
  event<E extends keyof EventMap>(name: E, event: EventMap[E]): void;
  start(recorder: Recorder): void;
  stop(): void;
}

/**
 * On a terminal: a block redrawn in place (log-update) with a progress bar
 * (done / failed / skipped / running of total, elapsed, ETA) and a line per
 * running task: agent, thread, time so far and its last progress message.
 */
export class LiveView implements View {
  readonly #total: number;
  readonly #update: ReturnType<typeof createLogUpdate>;
  readonly #started = now();
  readonly #eta: Eta | undefined;
  readonly #paint: Paint;
  readonly #stream: { columns?: number };
  #timer: NodeJS.Timeout | undefined;
  #recorder: Recorder | undefined;

  constructor(
    stream: Writable & { columns?: number },
    total: number,
    options: { eta?: Eta; paint?: Paint } = {},
  ) {
    this.#total = total;
    this.#update = createLogUpdate(stream, { showCursor: false });
    this.#stream = stream;
    this.#eta = options.eta;
    this.#paint = options.paint ?? PLAIN;
  }

  start(recorder: Recorder): void {
    this.#recorder = recorder;
    this.#timer = setInterval(() => this.#render(), 100);
    this.#render();
  }

  event<E extends keyof EventMap>(name: E, event: EventMap[E]): void {
    if (name !== 'task') return;
    const e = event as EventMap['task'];
    if ('result' in e)
      this.#eta?.finished(e.id, e.result.startedAt === null ? undefined : e.result.durationMs);
  }

  #render(): void {
    const recorder = this.#recorder;
    if (!recorder) return;
    const paint = this.#paint;
    const { done, failed, skipped, cancelled } = recorder.counts;
    // Cancelled tasks did not run: the bar shows what was done, not what was given up.
    const ended = done + failed + skipped;
    const elapsed = now() - this.#started;
    // Narrow terminals get a shorter bar, so the counts after it still show.
    const columns = this.#stream.columns ?? 0;
    const width = columns > 0 ? Math.max(8, Math.min(28, columns - 50)) : 28;
    const filled = this.#total === 0 ? width : Math.round((ended / this.#total) * width);
    const { running, queued } = split(recorder);
    const nowMs = now();
    const remaining =
      ended + cancelled < this.#total
        ? this.#eta?.remainingMs(new Map(running.map((task) => [task.id, nowMs - task.since])))
        : undefined;
    const eta = remaining === undefined ? '' : ` · ETA ${seconds(remaining)}`;
    const counts = [
      paint.done(`done ${done}${recorder.fromCache ? ` (${recorder.fromCache} cached)` : ''}`),
      failed ? paint.failed(`failed ${failed}`) : `failed ${failed}`,
      paint.skipped(`skipped ${skipped}`),
      ...(cancelled ? [paint.cancelled(`cancelled ${cancelled}`)] : []),
      `running ${running.length}`,
      `queued ${queued.length}`,
    ].join(' · ');
    const lines = [
      `${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${ended}/${this.#total} · ${counts} · ${seconds(elapsed)}${eta}`,
    ];
    for (const task of running.slice(0, 16)) {
      const thread = task.threadId === 0 ? 'main' : `thread ${task.threadId}`;
      const attempt = task.attempt > 1 ? ` (attempt ${task.attempt})` : '';
      lines.push(
        `  ${task.id}${attempt}  ${task.agent}  ${thread}  ${seconds(nowMs - task.since)}${task.progress ? `  ${task.progress}` : ''}`,
      );
    }
    if (running.length > 16) lines.push(`  … and ${running.length - 16} more running`);
    if (queued.length > 0) {
      const shown = queued.slice(0, 5).map((task) => task.id);
      const more = queued.length > 5 ? `, … ${queued.length - 5} more` : '';
      lines.push(paint.skipped(`  queued: ${shown.join(', ')}${more}`));
    }
    // One column spare: a line that ends in the last column makes some terminals wrap.
    this.#update(lines.map((line) => cutToWidth(line, columns - 1)).join('\n'));
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#render();
    this.#update.done();
  }
}

/**
 * What runs and what waits. A task is handed to a thread before it begins
 * (on deck, behind the attempt the thread is running, or while the thread
 * boots), and a thread runs one attempt at a time: of the tasks handed to a
 * thread, the first handed (or one that has reported progress) is running,
 * the others queued; one not yet on a thread is queued.
 */
export function split(recorder: Pick<Recorder, 'running'>): {
  running: RunningTask[];
  queued: RunningTask[];
} {
  const byThread = new Map<number, RunningTask>();
  const queued: RunningTask[] = [];
  for (const task of recorder.running.values()) {
    if (task.threadId === null) {
      queued.push(task);
      continue;
    }
    const current = byThread.get(task.threadId);
    const first =
      current === undefined ||
      (task.progress !== undefined && current.progress === undefined) ||
      ((task.progress === undefined) === (current.progress === undefined) &&
        task.since < current.since);
    if (first) {
      if (current) queued.push(current);
      byThread.set(task.threadId, task);
    } else queued.push(task);
  }
  return { running: [...byThread.values()], queued: queued.sort((a, b) => a.since - b.since) };
}

/** Not a terminal (CI, a pipe): one plain line per task that ends or retries, no escape codes. */
export class PlainView implements View {
  readonly #out: Writable;
  readonly #total: number;
  readonly #budgets: TokenBudgets;
  #finished = 0;

  readonly #paint: Paint;

  /** @param budgets token budgets by task id: a task with one shows its tokens against it. */
  constructor(out: Writable, total: number, budgets: TokenBudgets = new Map(), paint = PLAIN) {
    this.#out = out;
    this.#total = total;
    this.#budgets = budgets;
    this.#paint = paint;
  }

  /** Cancelled tasks, told in one line at the end (a cancelled big DAG would print thousands). */
  #cancelled: { ids: string[]; reason: string } | undefined;

  start(): void {}
  stop(): void {
    const cancelled = this.#cancelled;
    if (!cancelled) return;
    const { ids, reason } = cancelled;
    const shown = ids.slice(0, 5).join(', ') + (ids.length > 5 ? `, … ${ids.length - 5} more` : '');
    const width = String(this.#total).length;
    this.#out.write(
      `${' '.repeat(2 * width + 3)} cancelled ${ids.length} task${ids.length === 1 ? '' : 's'} (${shown}): ${reason}\n`,
    );
  }

  event<E extends keyof EventMap>(name: E, event: EventMap[E]): void {
    if (name !== 'task') return;
    const e = event as EventMap['task'];
    const width = String(this.#total).length;
    if (e.type === 'retry') {
      this.#out.write(
        `${' '.repeat(2 * width + 3)} retry     ${e.id} (${e.agent}) attempt ${e.attempt} failed: ${e.error.code}; next in ${Math.round(e.delayMs)} ms\n`,
      );
      return;
    }
    if (!('result' in e)) return;
    this.#finished++;
    const r = e.result;
    if (r.status === 'cancelled') {
      this.#cancelled ??= { ids: [], reason: `${r.error.code}: ${r.error.message}` };
      this.#cancelled.ids.push(r.id);
      return;
    }
    const where =
      r.threadId === null ? '' : r.threadId === 0 ? ', main thread' : `, thread ${r.threadId}`;
    const budget = this.#budgets.get(r.id);
    const tokens = budget === undefined ? '' : `, ${tokensText(r.tokens, budget)}`;
    const detail =
      r.status === 'done' && r.cachedFrom
        ? `from cache (${Math.round(r.cachedFrom.durationMs)} ms saved)`
        : r.status === 'done'
          ? `${Math.round(r.durationMs)} ms${where}${tokens}`
          : `${r.error.code}: ${r.error.message}`;
    this.#out.write(
      `[${String(this.#finished).padStart(width)}/${this.#total}] ${this.#paint[r.status](r.status.padEnd(9))} ${r.id} (${r.agent}) ${detail}\n`,
    );
  }
}

/** `--format ndjson`: one JSON object per line, for other programs. */
export class NdjsonView implements View {
  readonly #out: Writable;
  constructor(out: Writable) {
    this.#out = out;
  }
  start(): void {}
  stop(): void {}
  event<E extends keyof EventMap>(_name: E, event: EventMap[E]): void {
    this.#out.write(`${toJson(event)}\n`);
  }
}
