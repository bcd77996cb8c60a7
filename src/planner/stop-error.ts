import type { StopReason } from '../results.js';
import { formatCount, type TaskError, taskError } from '../shared/errors.js';

/** Why the run stopped, as the error of every task it stopped. */
export function stopError(
  reason: Exclude<StopReason, null>,
  context: {
    runTokens?: number | undefined;
    /** Tokens charged to the run's budget when it stopped. */
    spent?: number | undefined;
    culprit?: string | undefined;
    signal?: AbortSignal;
  },
): TaskError {
  if (reason === 'token-budget') {
    const budget = formatCount(context.runTokens ?? 0);
    const used = context.spent === undefined ? '' : ` (${formatCount(context.spent)} used)`;
    return taskError(
      'ERR_RUN_TOKEN_BUDGET',
      `skipped: the run's ${budget}-token budget is spent${used}`,
    );
  }
  if (reason === 'fail-fast') {
    return taskError(
      'ERR_CANCELLED',
      `cancelled: task "${context.culprit}" failed and failFast is set`,
    );
  }
  if (reason === 'lease-lost') {
    return taskError(
      'ERR_CLUSTER_RUN_LEASED',
      'cancelled here: another planner took the run over (this one lost its lease) and finishes it',
    );
  }
  const why = context.signal?.reason instanceof Error ? `: ${context.signal.reason.message}` : '';
  return taskError('ERR_CANCELLED', `run cancelled${why}`);
}
