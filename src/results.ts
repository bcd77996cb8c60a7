import { z } from 'zod';
import type { TaskError } from './shared/errors.js';
import { TASK_STATUSES } from './shared/task-status.js';

/** `TaskError` as a schema (the interface lives in shared/errors.ts, which worker threads load without zod). */
export const taskErrorSchema: z.ZodType<TaskError> = z.object({
  code: z.string(),
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  upstream: z.array(z.string()).optional(),
});

/** The four ways a task can end. Every task ends in exactly one. */
export const taskStatusSchema = z.enum(TASK_STATUSES);
export type { TaskStatus } from './shared/task-status.js';

const resultBase = {
  id: z.string(),
  agent: z.string(),
  /** Attempts made: 0 for a task that never started. */
  attempts: z.int().min(0),
  /** When the task became ready to run (epoch ms); null if it never did. */
  queuedAt: z.number().nullable(),
  /** When its last attempt started on a thread (epoch ms); null if it never started. */
  startedAt: z.number().nullable(),
  /** When it reached its final status (epoch ms). */
  finishedAt: z.number(),
  /** Run time of the last attempt in ms (0 if it never started). */
  durationMs: z.number().min(0),
  /** `threadId` of the worker thread of the last attempt (0 = main thread, inline mode); null if it never started. */
  threadId: z.int().nullable(),
  /** Tokens used, over all attempts (counted when a token budget applies or `countTokens` is set). */
  tokens: z.number().min(0),
  /** Active time of the last attempt's thread during it, in ms (see `limits.cpuMs`). */
  cpuMs: z.number().min(0),
  /** With `redis`: the `agentpool worker` that ran the last attempt, as `hostname/pid`. */
  worker: z.string().optional(),
};

/**
 * How one task ended, discriminated on `status`: `done` carries `output`,
 * every other status carries `error` with a stable `code`.
 */
export const taskResultSchema = z.discriminatedUnion('status', [
  z.object({
    ...resultBase,
    status: z.literal('done'),
    output: z.unknown(),
    error: z.undefined().optional(),
    /**
     * Present, true, when the output came from the task cache: the task did
     * not run (`attempts` 0, no thread, `tokens` and `durationMs` 0).
     */
    cached: z.literal(true).optional(),
    /** For a cached result: the run that made it, when, and what it cost then. */
    cachedFrom: z
      .object({
        runId: z.string(),
        createdAt: z.number(),
        tokens: z.number().min(0),
        durationMs: z.number().min(0),
      })
      .optional(),
  }),
  z.object({
    ...resultBase,
    status: z.literal('failed'),
    output: z.undefined().optional(),
    error: taskErrorSchema,
  }),
  z.object({
    ...resultBase,
    status: z.literal('skipped'),
    output: z.undefined().optional(),
    error: taskErrorSchema,
  }),
  z.object({
    ...resultBase,
    status: z.literal('cancelled'),
    output: z.undefined().optional(),
    error: taskErrorSchema,
  }),
]);
export type TaskResult = z.infer<typeof taskResultSchema>;

/** Why a run stopped before every task could run; null when it ran to the end. */
export const stopReasonSchema = z
  .enum(['signal', 'fail-fast', 'token-budget', 'lease-lost'])
  .nullable();
export type StopReason = z.infer<typeof stopReasonSchema>;

/** The outcome of one `execute`: counts by status and every task's result by id. */
export const runResultSchema = z.object({
  runId: z.string(),
  total: z.int().min(0),
  done: z.int().min(0),
  failed: z.int().min(0),
  skipped: z.int().min(0),
  /** Number of tasks that ended `cancelled`. */
  cancelled: z.int().min(0),
  /**
   * Why the run was cut short, or null: `signal` (aborted by its AbortSignal),
   * `fail-fast` (a task failed under `failFast`), `token-budget` (the run's
   * token budget was spent; what had not started was skipped).
   */
  stoppedBy: stopReasonSchema,
  startedAt: z.number(),
  durationMs: z.number().min(0),
  /** Tokens used by the whole run. */
  tokens: z.number().min(0),
  /** Of the `done` tasks, how many came from the task cache, and what their first runs had cost. */
  fromCache: z.int().min(0),
  saved: z.object({ tokens: z.number().min(0), durationMs: z.number().min(0) }),
  /** The run's token budget (`runTokens`), or null. */
  tokenBudget: z.number().nullable(),
  /** done / total (1 for an empty DAG). */
  successRate: z.number().min(0).max(1),
  /** Results by task id, in the DAG's order. */
  tasks: z.record(z.string(), taskResultSchema),
});
export type RunResult = z.infer<typeof runResultSchema>;
