import type { TaskResult } from '../results.js';
import type { TaskError } from '../shared/errors.js';
import type { BatchItem } from '../shared/protocol.js';

/** The prompts one batched fan-out task runs, each with the id its result gets. */
export interface Batch {
  ids: string[];
  prompts: string[];
}

type Outcome = BatchItem & { attempts: number };

/**
 * One batched fan-out task's prompts across its attempts. Every prompt is
 * its own task to the user, so a retry carries only the prompts still owed
 * an outcome: those whose last try failed with a retryable error, or that
 * never got one because the attempt failed as a whole (its thread crashed,
 * it timed out). A prompt that succeeded is never run again, and keeps its
 * output whatever later attempts do.
 */
export class BatchLedger {
  readonly #batch: Batch;
  readonly #outcomes: (Outcome | undefined)[];
  // Indexes of the prompts the next attempt carries.
  #owed: number[];
  #carried: number[] = [];

  constructor(batch: Batch) {
    this.#batch = batch;
    this.#outcomes = new Array(batch.ids.length);
    this.#owed = batch.ids.map((_, k) => k);
  }

  /** The prompts for the next attempt. */
  next(): Batch {
    this.#carried = this.#owed;
    return {
      ids: this.#carried.map((k) => this.#batch.ids[k] as string),
      prompts: this.#carried.map((k) => this.#batch.prompts[k] as string),
    };
  }

  /**
   * Records what an attempt's prompts came to (its reply's items, in the
   * order `next()` gave them). Failures `retry` accepts stay owed; every
   * other prompt's outcome is final. Returns the first error that earns a
   * retry, or undefined when nothing is owed.
   */
  record(
    items: readonly BatchItem[],
    attempt: number,
    retry: (error: TaskError) => boolean,
  ): TaskError | undefined {
    const owed: number[] = [];
    let cause: TaskError | undefined;
    this.#carried.forEach((k, n) => {
      const item = items[n] as BatchItem;
      this.#outcomes[k] = { ...item, attempts: attempt };
      if (!item.ok && retry(item.error)) {
        owed.push(k);
        cause ??= item.error;
      }
    });
    this.#owed = owed;
    return cause;
  }

  /** Each prompt's latest outcome, in prompt order (undefined: none yet). */
  outcomes(): readonly (BatchItem | undefined)[] {
    return [...this.#outcomes];
  }

  /** Whether a prompt's last try failed: once nothing is owed, what `failFast` watches. */
  get anyFailed(): boolean {
    return this.#outcomes.some((outcome) => outcome?.ok === false);
  }

  /**
   * One result per prompt, in prompt order, once the batch task has ended
   * with `result`: a prompt with an outcome gets its own; one still owed
   * shares how the batch ended (a thread crash, a cancellation, a skip).
   */
  results(result: TaskResult): TaskResult[] {
    const owed = new Set(result.status === 'done' ? [] : this.#owed);
    return this.#batch.ids.map((id, k) => {
      const outcome = this.#outcomes[k];
      if (outcome === undefined || owed.has(k)) return { ...result, id };
      const common = {
        ...result,
        id,
        attempts: outcome.attempts,
        startedAt: outcome.startedAt,
        finishedAt: outcome.finishedAt,
        durationMs: outcome.finishedAt - outcome.startedAt,
        tokens: outcome.tokens,
        cpuMs: outcome.cpuMs,
      };
      return outcome.ok
        ? { ...common, status: 'done', output: outcome.output, error: undefined }
        : { ...common, status: 'failed', output: undefined, error: outcome.error };
    });
  }
}

/**
 * A run's batched fan-out tasks: a ledger for each, and which task each
 * prompt's id belongs to (a prompt's events carry its own id).
 */
export class RunBatches {
  readonly ledgers = new Map<number, BatchLedger>();
  readonly #taskOf = new Map<string, number>();

  constructor(batches: ReadonlyMap<number, Batch>) {
    for (const [i, batch] of batches) {
      this.ledgers.set(i, new BatchLedger(batch));
      for (const id of batch.ids) this.#taskOf.set(id, i);
    }
  }

  /** The batch task that runs the prompt with id `promptId`. */
  taskOf(promptId: string): number | undefined {
    return this.#taskOf.get(promptId);
  }
}
