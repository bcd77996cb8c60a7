import type { Writable } from 'node:stream';
import type { EventMap } from '../events.js';
import { toJson } from './json.js';
import { type Paint, PLAIN } from './paint.js';

const CHUNK_PREVIEW = 200;

function text(value: unknown): string {
  const shown = typeof value === 'string' ? value : toJson(value);
  const line = shown.replace(/\s+/g, ' ');
  return line.length > CHUNK_PREVIEW ? `${line.slice(0, CHUNK_PREVIEW)}…` : line;
}

/**
 * `--verbose`: every event as one readable line as it happens: a task
 * queued, handed to a thread, its progress, each chunk it streams with
 * `ctx.emit` (as streamed tokens are shown), retries and how it ended.
 */
export class VerboseView {
  readonly #out: Writable;
  readonly #started: number;
  readonly #paint: Paint;

  constructor(out: Writable, paint = PLAIN) {
    this.#out = out;
    this.#started = Date.now();
    this.#paint = paint;
  }

  start(): void {}
  stop(): void {}

  event<E extends keyof EventMap>(name: E, event: EventMap[E]): void {
    const at = `+${((event.at - this.#started) / 1000).toFixed(3)}s`.padStart(9);
    const who = `${event.id} (${event.agent})`;
    let line: string;
    if (name === 'chunk') line = `chunk     ${who}: ${text((event as EventMap['chunk']).chunk)}`;
    else if (name === 'progress') {
      const e = event as EventMap['progress'];
      line = `progress  ${who} ${Math.round(e.fraction * 100)}%${e.message ? ` ${e.message}` : ''}`;
    } else {
      const e = event as EventMap['task'];
      switch (e.type) {
        case 'queued':
          line = `queued    ${who}`;
          break;
        case 'started':
          line = `handed    ${who} attempt ${e.attempt}${e.threadId === null ? '' : ` to thread ${e.threadId}`}`;
          break;
        case 'retry':
          line = `retry     ${who} attempt ${e.attempt} failed: ${e.error.code}: ${e.error.message}; next in ${Math.round(e.delayMs)} ms`;
          break;
        case 'cached':
          line = `cached    ${who} from run ${e.fromRun} (${Math.round(e.durationMs)} ms, ${e.tokens} tokens saved)`;
          break;
        default: {
          const r = e.result;
          const detail =
            r.status === 'done'
              ? `${Math.round(r.durationMs)} ms: ${text(r.output)}`
              : `${r.error.code}: ${r.error.message}`;
          line = `${this.#paint[r.status](r.status.padEnd(9))} ${who} ${detail}`;
        }
      }
    }
    this.#out.write(`${at} ${line}\n`);
  }
}
