import { now } from '../src/shared/clock.js';
import { AgentpoolError } from '../src/shared/errors.js';
import type { TaskMessage } from '../src/shared/protocol.js';

/**
 * The attempt's deadline as `ctx.signal`. Most agents never look at it, and
 * a timer and an AbortController per attempt are a measurable share of a
 * tiny task's cost, so both are made when an agent first reads the signal;
 * an agent that never does cannot observe the timeout anyway, and its
 * attempt is judged by the clock when it returns (and terminated by the
 * main thread if it never does).
 */
export class Deadline {
  readonly #message: TaskMessage;
  readonly #cancelSignal: (() => AbortSignal) | undefined;
  readonly #startedAt: number;
  #controller: AbortController | undefined;
  #timer: NodeJS.Timeout | undefined;
  #onCancel: (() => void) | undefined;
  #expired = false;

  #cancel: AbortSignal | undefined;

  constructor(
    message: TaskMessage,
    startedAt: number,
    cancelSignal: (() => AbortSignal) | undefined,
  ) {
    this.#message = message;
    this.#startedAt = startedAt;
    this.#cancelSignal = cancelSignal;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      const controller = new AbortController();
      this.#controller = controller;
      const expire = () => {
        this.#expired = true;
        controller.abort(this.error());
      };
      const left = this.#startedAt + this.#message.timeoutMs - now();
      if (left <= 0) expire();
      // No time limit (`Infinity`): no timer, which Node would clamp to 1 ms.
      else if (Number.isFinite(left)) this.#timer = setTimeout(expire, left);
      const cancel = this.#cancelSignal?.();
      if (cancel?.aborted) controller.abort(cancel.reason);
      else if (cancel) {
        this.#cancel = cancel;
        this.#onCancel = () => controller.abort(cancel.reason);
        cancel.addEventListener('abort', this.#onCancel, { once: true });
      }
    }
    return this.#controller.signal;
  }

  /** Whether the attempt is past its time limit (the timer may fire a hair before the clock agrees). */
  get passed(): boolean {
    return this.#expired || now() - this.#startedAt >= this.#message.timeoutMs;
  }

  error(): AgentpoolError {
    return new AgentpoolError(
      'ERR_TASK_TIMEOUT',
      `task "${this.#message.taskId}" timed out after ${this.#message.timeoutMs} ms`,
    );
  }

  dispose(): void {
    clearTimeout(this.#timer);
    if (this.#onCancel) this.#cancel?.removeEventListener('abort', this.#onCancel);
  }
}
