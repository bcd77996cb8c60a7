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
  for (const result of run.results) {
    counts[result.status]++;
    tokens += result.tokens;
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
    tokenBudget: run.tokenBudget ?? null,
    successRate: total === 0 ? 1 : counts.done / total,
    // fromEntries, not assignment: a task may be called "__proto__".
    tasks: Object.fromEntries(run.results.map((result) => [result.id, result])),
  };
}
