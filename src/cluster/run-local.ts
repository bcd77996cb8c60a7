import { Watchdog } from '../planner/watchdog.js';
import type { Executor, Outcome, Probe, StopResult } from '../pool/executor.js';
import { now } from '../shared/clock.js';
import { cpuLimitError, formatCount, taskError, toTaskError } from '../shared/errors.js';
import type { TaskReply, TaskRequest } from '../shared/protocol.js';
import type { RemoteOutcome } from './outcome-wire.js';

/**
 * Runs one attempt a job carried on this worker's own threads, with the
 * same limits as a local run: the thread enforces the timeout, tokens and
 * output size itself; a watchdog, the planner's own, stops a thread that
 * overruns its timeout (plus grace) or its CPU limit, as the planner would
 * locally. Aborting `signal` (the planner cancelled it, or this worker lost
 * the job's lock) stops it; it then ends `cancelled`. `short`: one of a
 * pack, handed over with the others at once (the pool may group them on a
 * thread); `watch` gets its probe, to tell when it begins.
 */
export async function runLocally(
  pool: Executor,
  request: TaskRequest,
  graceMs: number,
  signal: AbortSignal,
  options: { short?: boolean; watch?: (probe: () => Probe) => void } = {},
): Promise<RemoteOutcome> {
  const submission = pool.submit(request, { short: options.short ?? false });
  options.watch?.(() => submission.probe());
  const prompts = request.batch?.ids.length ?? 1;
  const cpuMs = request.limits.cpuMs;
  let breach: Promise<TaskReply> | undefined;
  const watchdog = new Watchdog({
    timeoutMs: request.timeoutMs * prompts,
    graceMs,
    cpuMs: cpuMs === undefined ? undefined : cpuMs * prompts,
    probe: () => submission.probe(),
    onOverdue: () => submission.overdue(),
    onBreach: (code, probe) => {
      const startedAt = 'startedAt' in probe ? probe.startedAt : now();
      const activeMs = probe.phase === 'running' ? probe.activeMs : undefined;
      const finishedAt = now();
      breach = submission.abort('breach').then((how) => ({
        ok: false as const,
        error: breachError(request, code, activeMs, how, graceMs),
        startedAt,
        finishedAt,
        threadId: null,
        tokens: 0,
        cpuMs: activeMs ?? 0,
        events: 0,
      }));
    },
  });
  const stop = () => void submission.abort('stop');
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  let outcome: Outcome;
  try {
    outcome = await submission.outcome;
  } finally {
    watchdog.stop();
    signal.removeEventListener('abort', stop);
  }
  if (breach !== undefined) return { kind: 'replied', reply: await breach };
  switch (outcome.kind) {
    case 'replied':
      return { kind: 'replied', reply: outcome.reply };
    case 'crashed':
      return { kind: 'crashed', reply: outcome.reply };
    case 'refused':
      return { kind: 'refused' };
    default:
      return { kind: 'cancelled' };
  }
}

function breachError(
  request: TaskRequest,
  code: 'ERR_TASK_TIMEOUT' | 'ERR_CPU_LIMIT',
  activeMs: number | undefined,
  how: StopResult,
  graceMs: number,
) {
  const { taskId, timeoutMs, limits, batch } = request;
  const prompts = batch?.ids.length ?? 1;
  if (code === 'ERR_CPU_LIMIT')
    return toTaskError(cpuLimitError(taskId, activeMs ?? 0, (limits.cpuMs ?? 0) * prompts));
  const stopped =
    how === 'stuck'
      ? 'its thread did not stop when terminated (blocked in a call Node cannot interrupt): it was given up on and replaced'
      : 'its thread was terminated';
  return taskError(
    code,
    `task "${taskId}" timed out after ${formatCount(timeoutMs * prompts)} ms and did not stop within ${graceMs} ms; ${stopped}`,
  );
}
