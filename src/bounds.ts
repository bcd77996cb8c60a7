import { z } from 'zod';

/**
 * Numeric bounds that hold at run time, not only in the schema. Node's
 * timers take a signed 32-bit delay: a longer one (say `1e12`, meant as "no
 * timeout") is clamped to 1 ms with a `TimeoutOverflowWarning`, so a
 * 300-day timeout fired at once. Limits that become timer delays stop here.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const NO_LIMIT_HINT = `expected an integer from 1 to ${MAX_TIMER_MS} (ms), or 0 or Infinity for no time limit`;

/**
 * An attempt's time limit: an integer number of ms up to `MAX_TIMER_MS`
 * (about 24.8 days), or `0` or `Infinity` for no time limit (JSON has no
 * `Infinity`; YAML writes it `.inf`).
 */
export const timeLimitSchema = z
  // One check, one message: the hint for "no limit" is what someone who
  // wrote 1e12 needs to read.
  .custom<number>()
  // A refinement, not z.custom's own check: that one aborts, and an agent's
  // `{ module, timeoutMs }` union would no longer name the field.
  .refine(
    (v) =>
      v === Number.POSITIVE_INFINITY ||
      (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_TIMER_MS),
    NO_LIMIT_HINT,
  )
  .describe('ms; 0 or Infinity: no time limit');

/** `timeLimitSchema`'s value as the planner and the worker use it: "no limit" is always `Infinity`. */
export function timeLimit(ms: number): number {
  return ms === 0 ? Number.POSITIVE_INFINITY : ms;
}

/** A delay in ms that becomes one timer: 0 to `MAX_TIMER_MS`. */
export const delaySchema = z.number().min(0).max(MAX_TIMER_MS);

/** An integer delay in ms that becomes one timer: 0 to `MAX_TIMER_MS`. */
export const intDelaySchema = z.int().min(0).max(MAX_TIMER_MS);

/**
 * Most worker threads: each is a V8 isolate of its own (about 10 MB before
 * any agent loads), and piscina starts all of them up front.
 */
export const MAX_THREADS = 1024;

/**
 * Most attempts in flight on one thread. Each takes start-board cells
 * shared with the workers (4 slots of 32 bytes each per attempt): at 1e9 per
 * thread that buffer cannot be made (a RangeError), and past a few dozen a
 * deeper queue buys nothing (short tasks are already back to back).
 */
export const MAX_IN_FLIGHT_PER_THREAD = 1024;
