import type { RunResult } from '../results.js';
import type { AttemptRecord } from './recorder.js';

// The track of cache hits (thread ids are positive, -1 is "unknown").
const CACHE_TRACK = -2;

/**
 * The run as a Chrome trace event file (one track per worker thread), for
 * Perfetto or chrome://tracing.
 */
export function chromeTrace(run: RunResult, attempts: readonly AttemptRecord[]): object {
  const origin = run.startedAt;
  const us = (ms: number) => Math.round((ms - origin) * 1000);
  const threads = [...new Set(attempts.map((a) => a.threadId ?? -1))];
  return {
    displayTimeUnit: 'ms',
    otherData: { runId: run.runId, total: run.total, done: run.done, failed: run.failed },
    traceEvents: [
      { name: 'process_name', ph: 'M', pid: 1, tid: 0, args: { name: 'agentpool' } },
      ...(run.fromCache > 0
        ? [{ name: 'thread_name', ph: 'M', pid: 1, tid: CACHE_TRACK, args: { name: 'from cache' } }]
        : []),
      ...threads.map((tid) => ({
        name: 'thread_name',
        ph: 'M',
        pid: 1,
        tid,
        args: {
          name:
            tid === 0
              ? 'main thread (inline)'
              : tid === -1
                ? 'unknown thread'
                : `worker thread ${tid}`,
        },
      })),
      // Cache hits ran nowhere: an instant mark each, on a track of their own.
      ...Object.values(run.tasks).flatMap((t) =>
        t.status === 'done' && t.cachedFrom
          ? [
              {
                name: t.id,
                cat: `${t.agent},cached`,
                ph: 'i',
                s: 't',
                pid: 1,
                tid: CACHE_TRACK,
                ts: us(t.finishedAt),
                args: {
                  cached: true,
                  fromRun: t.cachedFrom.runId,
                  savedMs: t.cachedFrom.durationMs,
                },
              },
            ]
          : [],
      ),
      ...attempts.map((a) => ({
        name: a.id,
        cat: a.agent,
        ph: 'X',
        pid: 1,
        tid: a.threadId ?? -1,
        ts: us(a.startedAt),
        dur: Math.max(1, us(a.finishedAt) - us(a.startedAt)),
        args: {
          attempt: a.attempt,
          status: a.status,
          waitedMs: Math.max(0, a.startedAt - a.readyAt),
          error: a.error,
          tokens: a.tokens,
        },
      })),
    ],
  };
}
