import type { RunResult } from '../results.js';
import type { AttemptRecord } from './recorder.js';

// The track of cache hits (thread ids are positive, -1 is "unknown").
const CACHE_TRACK = -2;

// Thread ids an `agentpool worker` reports are this many times its number plus its own
// (see cluster/worker-node.ts): one worker's threads share a process in the trace.
const THREAD_SPAN = 1_000;

/** Where an attempt's lane is: a process (this one, or a worker's) and a thread in it. */
function laneOf(a: AttemptRecord): { pid: number; tid: number } {
  const tid = a.threadId ?? -1;
  if (a.worker === undefined || tid < THREAD_SPAN) return { pid: 1, tid };
  return { pid: 1 + Math.floor(tid / THREAD_SPAN), tid: tid % THREAD_SPAN };
}

/**
 * The run as a Chrome trace event file (one track per worker thread; with
 * `redis`, one process per `agentpool worker`, named by its host and pid),
 * for Perfetto or chrome://tracing.
 */
export function chromeTrace(run: RunResult, attempts: readonly AttemptRecord[]): object {
  const origin = run.startedAt;
  const us = (ms: number) => Math.round((ms - origin) * 1000);
  const lanes = new Map<string, { pid: number; tid: number; worker: string | undefined }>();
  for (const a of attempts) {
    const lane = laneOf(a);
    lanes.set(`${lane.pid}/${lane.tid}`, { ...lane, worker: a.worker });
  }
  const workers = new Map<number, string>();
  for (const lane of lanes.values()) if (lane.pid > 1) workers.set(lane.pid, lane.worker ?? '');
  return {
    displayTimeUnit: 'ms',
    otherData: { runId: run.runId, total: run.total, done: run.done, failed: run.failed },
    traceEvents: [
      { name: 'process_name', ph: 'M', pid: 1, tid: 0, args: { name: 'agentpool' } },
      ...[...workers].map(([pid, worker]) => ({
        name: 'process_name',
        ph: 'M',
        pid,
        tid: 0,
        args: { name: `agentpool worker ${worker}` },
      })),
      ...(run.fromCache > 0
        ? [{ name: 'thread_name', ph: 'M', pid: 1, tid: CACHE_TRACK, args: { name: 'from cache' } }]
        : []),
      ...[...lanes.values()].map(({ pid, tid }) => ({
        name: 'thread_name',
        ph: 'M',
        pid,
        tid,
        args: {
          name:
            pid > 1
              ? `${workers.get(pid)} thread ${tid}`
              : tid === 0
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
        ...laneOf(a),
        ts: us(a.startedAt),
        dur: Math.max(1, us(a.finishedAt) - us(a.startedAt)),
        args: {
          attempt: a.attempt,
          status: a.status,
          waitedMs: Math.max(0, a.startedAt - a.readyAt),
          error: a.error,
          tokens: a.tokens,
          worker: a.worker,
        },
      })),
    ],
  };
}
