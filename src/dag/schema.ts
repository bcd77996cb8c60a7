import { z } from 'zod';
import { timeLimitSchema } from '../bounds.js';
import { retryOverrideSchema } from '../retry.js';

/**
 * When a task with dependencies runs:
 * - `all_success` (default): every dependency succeeded; otherwise it is skipped.
 * - `all_done`: every dependency ended, whatever its status (reports, cleanup).
 * - `one_failed`: at least one dependency failed or was skipped (error handlers).
 * - `one_success`: at least one dependency succeeded.
 */
export const triggerSchema = z.enum(['all_success', 'all_done', 'one_failed', 'one_success']);
export type Trigger = z.infer<typeof triggerSchema>;

/**
 * Resource limits of a task, enforced in the worker that runs it. Set at
 * the runtime, agent or task level; each field falls back to the next
 * level (runtime < agent < task).
 */
export const limitsSchema = z.strictObject({
  /** Heap cap (V8 old generation) of the thread running the task, in MB. Tasks with different caps run on different threads. */
  memoryMb: z.int().min(8).optional(),
  /** Token budget of one attempt: prompt, what the agent consumes, and the output, counted with a BPE tokenizer. */
  tokens: z.int().min(0).optional(),
  /** Cap on the serialized size of the output, in bytes. */
  outputBytes: z.int().positive().optional(),
  /** Cap on the thread's active (not waiting) time during one attempt, in ms. */
  cpuMs: z.number().positive().optional(),
});
export type Limits = z.infer<typeof limitsSchema>;

const taskFields = {
  /** Name of a registered agent. */
  agent: z.string().min(1),
  /** The task's input text. */
  prompt: z.string().default(''),
  /** Ids of tasks that must end first (`dependsOn` is accepted too). */
  depends_on: z.array(z.string()).optional(),
  dependsOn: z.array(z.string()).optional(),
  /** Overlaid on the run's context for this task only. */
  context: z.record(z.string(), z.unknown()).optional(),
  /** Retry override for this task: a count, or a partial retry policy. */
  retries: retryOverrideSchema.optional(),
  /** Wall-time limit of one attempt, counted from its start, in ms (at most 2147483647); `0` or `Infinity` (YAML `.inf`): none. */
  timeoutMs: timeLimitSchema.optional(),
  trigger: triggerSchema.default('all_success'),
  /** Estimated duration, in any unit consistent within the DAG; guides critical-path order. */
  cost: z.number().min(0).finite().optional(),
  /** Added to the task's critical-path rank: higher runs sooner among ready tasks. */
  priority: z.number().finite().default(0),
  limits: limitsSchema.optional(),
  /** `false`: this task's result is never taken from, nor written to, the cache. */
  cache: z.boolean().optional(),
};

/**
 * One task as written in a DAG. Unknown fields are rejected. (Kept free of
 * refinements and transforms, which cost zod its fast path: validation
 * normalises `depends_on`/`dependsOn` itself.)
 */
export const taskSchema = z.strictObject(taskFields);

/** A DAG: task id to task, the reference executor's format. */
export const dagSchema = z.record(z.string().min(1), taskSchema);

/** A DAG as you write it. */
export type DagInput = z.input<typeof dagSchema>;
/** A task as you write it. */
export type TaskInput = z.input<typeof taskSchema>;
/** A task after validation: defaults applied, dependencies (deduplicated) under `dependsOn`. */
export type TaskSpec = Omit<z.output<typeof taskSchema>, 'depends_on' | 'dependsOn'> & {
  dependsOn: string[];
};
