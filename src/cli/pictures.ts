import { compileDag } from '../dag/validate.js';
import type { RunResult } from '../results.js';
import { analyze } from './analysis.js';
import type { AttemptRecord } from './recorder.js';
import { timelineHtml } from './report-html.js';
import { chromeTrace } from './trace.js';

export type { AttemptRecord } from './recorder.js';

/**
 * The attempts a `RunResult` knows of: each started task's last attempt
 * (earlier, retried attempts are in the events only; the CLI records them).
 */
export function attemptsOf(run: RunResult): AttemptRecord[] {
  const attempts: AttemptRecord[] = [];
  for (const task of Object.values(run.tasks)) {
    if (task.startedAt === null) continue;
    attempts.push({
      id: task.id,
      agent: task.agent,
      attempt: task.attempts,
      readyAt: task.queuedAt ?? task.startedAt,
      startedAt: task.startedAt,
      finishedAt: task.finishedAt,
      threadId: task.threadId,
      worker: task.worker,
      status: task.status,
      error: task.error ? `${task.error.code}: ${task.error.message}` : undefined,
      tokens: task.tokens || undefined,
    });
  }
  return attempts.sort((a, b) => a.startedAt - b.startedAt);
}

/** Options of `renderTimeline`. */
export interface TimelineOptions {
  /** The page's title. @default the run id */
  title?: string;
  /** Threads the run had, for its lower bound. @default the distinct threads that ran attempts */
  threads?: number;
  /** Every attempt, retries included (from `runtime.on('task')`). @default `attemptsOf(run)` */
  attempts?: readonly AttemptRecord[];
}

/**
 * A run's timeline as one self-contained HTML page, as `agentpool run
 * --report` writes it: a lane per thread, queue waits, the critical path
 * and the run against its lower bound. `dag` is the task map that ran.
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * import { createRuntime, renderTimeline } from 'agentpool';
 * const run = await runtime.execute(dag);
 * await writeFile('timeline.html', renderTimeline(run, dag, { title: 'nightly' }));
 * ```
 */
export function renderTimeline(
  run: RunResult,
  dag: unknown,
  options: TimelineOptions = {},
): string {
  const graph = compileDag(dag);
  const attempts = [...(options.attempts ?? attemptsOf(run))].sort(
    (a, b) => a.startedAt - b.startedAt,
  );
  const threads =
    options.threads ?? Math.max(1, new Set(attempts.map((attempt) => attempt.threadId)).size);
  return timelineHtml(
    options.title ?? run.runId,
    run,
    attempts,
    analyze(run, graph, attempts, threads),
  );
}

/**
 * A run as a Chrome trace event file (one track per thread), as `agentpool
 * run --trace` writes it, for Perfetto or chrome://tracing: write it with
 * `JSON.stringify`.
 */
export function renderChromeTrace(
  run: RunResult,
  options: { attempts?: readonly AttemptRecord[] } = {},
): object {
  return chromeTrace(run, options.attempts ?? attemptsOf(run));
}
