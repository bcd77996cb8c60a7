import type { Writable } from 'node:stream';
import { createLogUpdate } from 'log-update';
import { now } from '../clock.js';
import type { EventMap } from '../events.js';
import { toJson } from './json.js';
import { type TokenBudgets, tokensText } from './preview.js';
import type { Recorder } from './recorder.js';

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
  #timer: NodeJS.Timeout | undefined;
  #recorder: Recorder | undefined;

  constructor(stream: Writable & { columns?: number }, total: number) {
    this.#total = total;
    this.#update = createLogUpdate(stream, { showCursor: false });
  }

  start(recorder: Recorder): void {
    this.#recorder = recorder;
    this.#timer = setInterval(() => this.#render(), 100);
    this.#render();
  }

  event(): void {}

  #render(): void {
    const recorder = this.#recorder;
    if (!recorder) return;
    const { done, failed, skipped, cancelled } = recorder.counts;
    const finished = done + failed + skipped + cancelled;
    const elapsed = now() - this.#started;
    const width = 28;
    const filled = this.#total === 0 ? width : Math.round((finished / this.#total) * width);
    const eta =
      finished > 0 && finished < this.#total
        ? ` · ETA ${seconds((elapsed / finished) * (this.#total - finished))}`
        : '';
    const lines = [
      `${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${finished}/${this.#total} · done ${done}${recorder.fromCache ? ` (${recorder.fromCache} cached)` : ''} · failed ${failed} · skipped ${skipped} · running ${recorder.running.size} · ${seconds(elapsed)}${eta}`,
    ];
    for (const task of [...recorder.running.values()].slice(0, 16)) {
      const thread =
        task.threadId === null
          ? 'starting'
          : task.threadId === 0
            ? 'main'
            : `thread ${task.threadId}`;
      const attempt = task.attempt > 1 ? ` (attempt ${task.attempt})` : '';
      lines.push(
        `  ${task.id}${attempt}  ${task.agent}  ${thread}  ${seconds(now() - task.since)}${task.progress ? `  ${task.progress}` : ''}`,
      );
    }
    if (recorder.running.size > 16) lines.push(`  … and ${recorder.running.size - 16} more`);
    this.#update(lines.join('\n'));
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#render();
    this.#update.done();
  }
}

/** Not a terminal (CI, a pipe): one plain line per task that ends or retries, no escape codes. */
export class PlainView implements View {
  readonly #out: Writable;
  readonly #total: number;
  readonly #budgets: TokenBudgets;
  #finished = 0;

  /** @param budgets token budgets by task id: a task with one shows its tokens against it. */
  constructor(out: Writable, total: number, budgets: TokenBudgets = new Map()) {
    this.#out = out;
    this.#total = total;
    this.#budgets = budgets;
  }

  start(): void {}
  stop(): void {}

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
      `[${String(this.#finished).padStart(width)}/${this.#total}] ${r.status.padEnd(9)} ${r.id} (${r.agent}) ${detail}\n`,
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
