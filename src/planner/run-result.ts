import type { RunResult, StopReason, TaskResult } from '../results.js';
import { now } from '../shared/clock.js';

/** A run's result from its tasks' results: counts by status, totals and the tasks by id. */
export function summarizeRun(run: {
  runId: string;
  results: readonly TaskResult[];
  stoppedBy: StopReason;
  startedAt: number;
  /** Tokens charged to the run's shared budget, when it has one. */
  tokensSpent: number | undefined;
  tokenBudget: number | undefined;
}): RunResult {
  const counts = { done: 0, failed: 0, skipped: 0, cancelled: 0 };
  let tokens = 0;
  const saved = { tokens: 0, durationMs: 0 };
  let fromCache = 0;
  for (const result of run.results) {
    counts[result.status]++;
    tokens += result.tokens;
    if (result.status === 'done' && result.cachedFrom) {
      fromCache++;
      saved.tokens += result.cachedFrom.tokens;
      saved.durationMs += result.cachedFrom.durationMs;
    }
  }
  const total = run.results.length;
  return {
    runId: run.runId,
    total,
    ...counts,
    stoppedBy: run.stoppedBy,
    startedAt: run.startedAt,
    durationMs: now() - run.startedAt,
    tokens: run.tokensSpent ?? tokens,
    fromCache,
    saved,
    tokenBudget: run.tokenBudget ?? null,
    successRate: total === 0 ? 1 : counts.done / total,
    // fromEntries, not assignment: a task may be called "__proto__".
    tasks: Object.fromEntries(run.results.map((result) => [result.id, result])),
  };
}
