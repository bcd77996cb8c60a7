import type { Trigger } from '../dag/schema.js';
import type { TaskStatus } from '../results.js';

export type Verdict =
  | { run: true }
  | { run: false; code: 'ERR_UPSTREAM_FAILED' | 'ERR_TRIGGER_NOT_MET'; reason: string };

/**
 * Whether a task may run once all its dependencies have ended. (`all_success`
 * tasks are skipped earlier, at the first dependency that does not succeed.)
 */
export function evaluateTrigger(trigger: Trigger, statuses: readonly TaskStatus[]): Verdict {
  const succeeded = statuses.filter((s) => s === 'done').length;
  switch (trigger) {
    case 'all_done':
      return { run: true };
    case 'all_success':
      return succeeded === statuses.length
        ? { run: true }
        : { run: false, code: 'ERR_UPSTREAM_FAILED', reason: 'not every dependency succeeded' };
    case 'one_success':
      return succeeded > 0 || statuses.length === 0
        ? { run: true }
        : {
            run: false,
            code: 'ERR_UPSTREAM_FAILED',
            reason: 'trigger one_success: no dependency succeeded',
          };
    case 'one_failed':
      return succeeded < statuses.length
        ? { run: true }
        : {
            run: false,
            code: 'ERR_TRIGGER_NOT_MET',
            reason: 'trigger one_failed: no dependency failed',
          };
  }
}
