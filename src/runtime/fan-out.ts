import { checkPrompts } from '../dag/fan-out.js';
import type { DagInput } from '../dag/schema.js';
import type { ExecuteOptions } from '../options.js';
import { describe, OptionsError } from '../shared/errors.js';

/** Options of `fanOut`: those of `execute`, plus retry and timeout for every task, and batching. */
export type FanOutOptions = ExecuteOptions &
  Pick<DagInput[string], 'retries' | 'timeoutMs'> & {
    /**
     * Prompts sent to a thread per message (default 1). For tiny tasks, where
     * dispatch costs more than the work: each prompt still runs as its own
     * task (own timeout, CPU limit, tokens, errors, result, retries: a retry
     * carries only the prompts whose last try failed), but a batch is
     * cancelled as a whole.
     */
    batch?: number;
  };

/** A batched fan-out's batches: task id to the ids and prompts it runs in one message. */
export type Batches = Map<string, { ids: string[]; prompts: string[] }>;

/** `fanOut`'s arguments checked and split: the task every prompt runs as, the batch size, the run's options. */
export function fanOutPlan(
  agent: string,
  prompts: readonly string[],
  options: FanOutOptions,
): {
  task: Pick<DagInput[string], 'agent' | 'retries' | 'timeoutMs'>;
  batch: number;
  executeOptions: ExecuteOptions;
} {
  if (!Array.isArray(prompts))
    throw new OptionsError(`prompts: expected an array of strings, got ${describe(prompts)}`);
  const { retries, timeoutMs, batch = 1, ...executeOptions } = options;
  if (!Number.isInteger(batch) || batch < 1) {
    throw new OptionsError(`batch: expected an integer >= 1, got ${describe(batch)}`);
  }
  checkPrompts(prompts);
  const task = {
    agent,
    ...(retries !== undefined && { retries }),
    ...(timeoutMs !== undefined && { timeoutMs }),
  };
  return { task, batch, executeOptions };
}

/** Prompts `batch` at a time: `batch_0` holds `task_0` .. `task_{batch-1}`, and so on. */
export function batchesOf(prompts: readonly string[], batch: number): Batches {
  const batches: Batches = new Map();
  for (let k = 0; k < prompts.length; k += batch) {
    const slice = prompts.slice(k, k + batch);
    batches.set(`batch_${k / batch}`, {
      ids: slice.map((_, j) => `task_${k + j}`),
      prompts: slice,
    });
  }
  return batches;
}
