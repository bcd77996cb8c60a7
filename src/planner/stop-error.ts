import { formatCount, type TaskError, taskError } from '../errors.js';
import type { StopReason } from '../results.js';

/** Why the run stopped, as the error of every task it stopped. */
export function stopError(
  reason: Exclude<StopReason, null>,
  context: { runTokens?: number | undefined; culprit?: string | undefined; signal?: AbortSignal },
): TaskError {
  if (reason === 'token-budget') {
    const budget = formatCount(context.runTokens ?? 0);
    return taskError('ERR_RUN_TOKEN_BUDGET', `skipped: the run's ${budget}-token budget is spent`);
  }
  if (reason === 'fail-fast') {
    return taskError(
      'ERR_CANCELLED',
      `cancelled: task "${context.culprit}" failed and failFast is set`,
    );
  }
  const why = context.signal?.reason instanceof Error ? `: ${context.signal.reason.message}` : '';
  return taskError('ERR_CANCELLED', `run cancelled${why}`);
}
