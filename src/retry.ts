import { z } from 'zod';
import { delaySchema } from './bounds.js';
import { closest } from './dag/suggest.js';
import { ERROR_CODES } from './shared/errors.js';

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/**
 * An error code to retry on: agentpool's own (`ERR_TASK_TIMEOUT`) or an
 * agent's (`E_RATE_LIMIT`: an agent's thrown error keeps its code). One
 * that is not agentpool's but a likely typo of one is rejected, naming
 * both: `ERR_TASK_TIMOUT` would otherwise quietly never match.
 */
const retryCodeSchema = z
  .string()
  .min(1)
  .superRefine((code, ctx) => {
    if (KNOWN_CODES.has(code)) return;
    const hint = closest(code, ERROR_CODES);
    if (hint)
      ctx.addIssue({
        code: 'custom',
        message: `unknown error code \`${code}\` (did you mean \`${hint}\`?)`,
      });
  });

/** How a failed attempt is retried. Every field has a default. */
export const retryPolicySchema = z.strictObject({
  /** Retries after the first attempt (so `max: 1` means up to 2 attempts). */
  max: z.int().min(0).default(1),
  /** Delay before the first retry, in ms. */
  backoffMs: delaySchema.default(500),
  /** Each further retry waits `factor` times longer than the one before. */
  factor: z.number().min(1).default(2),
  /** No single wait is longer than this, in ms (at most 2147483647, Node's longest timer). */
  maxBackoffMs: delaySchema.default(30_000),
  /** Randomise each wait between half and all of its nominal length, so retries of many tasks do not stampede. */
  jitter: z.boolean().default(true),
  /**
   * Error codes that are retried. Default: any error except limit breaches
   * and errors that would repeat (`NOT_RETRIED_BY_DEFAULT`).
   */
  on: z.array(retryCodeSchema).optional(),
});
export type RetryPolicy = z.output<typeof retryPolicySchema>;

/**
 * What a task, an agent or the runtime may say about retries: a number is
 * shorthand for `{ max: n }`; unset fields fall back to the next level
 * (runtime < agent < task).
 */
export const retryOverrideSchema = z.union([
  z.int().min(0),
  z.strictObject({
    max: z.int().min(0).optional(),
    backoffMs: delaySchema.optional(),
    factor: z.number().min(1).optional(),
    maxBackoffMs: delaySchema.optional(),
    jitter: z.boolean().optional(),
    on: z.array(retryCodeSchema).optional(),
  }),
]);
export type RetryOverride = z.input<typeof retryOverrideSchema>;

/** Applies overrides, lowest precedence first, onto a full policy. */
export function mergeRetry(
  base: RetryPolicy,
  ...overrides: (RetryOverride | undefined)[]
): RetryPolicy {
  let policy = base;
  for (const override of overrides) {
    if (override === undefined) continue;
    const partial = typeof override === 'number' ? { max: override } : override;
    policy = {
      ...policy,
      ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)),
    };
  }
  return policy;
}

/** Codes a retry would only repeat: limit breaches and deterministic failures. */
export const NOT_RETRIED_BY_DEFAULT: ReadonlySet<string> = new Set([
  'ERR_AGENT_LOAD',
  'ERR_DAG_INVALID',
  'ERR_OUTPUT_NOT_CLONEABLE',
  'ERR_OUTPUT_TOO_LARGE',
  'ERR_MEMORY_LIMIT',
  'ERR_TOKEN_BUDGET',
  'ERR_RUN_TOKEN_BUDGET',
  'ERR_CPU_LIMIT',
]);

/** Whether an attempt that failed with `code` is retried under `policy` (attempts permitting). */
export function retries(policy: RetryPolicy, code: string): boolean {
  return policy.on ? policy.on.includes(code) : !NOT_RETRIED_BY_DEFAULT.has(code);
}

/** Milliseconds to wait before attempt `attempt + 1`, where `attempt` (1-based) just failed. */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const nominal = Math.min(policy.maxBackoffMs, policy.backoffMs * policy.factor ** (attempt - 1));
  return policy.jitter ? nominal / 2 + random() * (nominal / 2) : nominal;
}
