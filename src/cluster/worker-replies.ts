import { now } from '../shared/clock.js';
import { taskError, toTaskError } from '../shared/errors.js';
import type { TaskReply } from '../shared/protocol.js';
import { pack } from './job.js';
import type { RemoteOutcome } from './outcome-wire.js';

/** The fields of a failed reply for an attempt that never ran here. */
export function refusalReply(at: number): Omit<TaskReply & { ok: false }, 'error'> {
  return {
    ok: false,
    startedAt: at,
    finishedAt: at,
    threadId: null,
    tokens: 0,
    cpuMs: 0,
    events: 0,
  };
}

/** A worker's refusal to run a job, as a reply the planner's retry policy judges. */
export function refusal(
  at: number,
  code: 'ERR_UNKNOWN_AGENT' | 'ERR_CLUSTER_AGENT_HASH',
  message: string,
): RemoteOutcome {
  return { kind: 'replied', reply: { ...refusalReply(at), error: taskError(code, message) } };
}

/**
 * An outcome packed as a job's result; one whose output cannot be (over
 * the payload limit) becomes that task's coded failure instead.
 */
export function packOutcome(outcome: RemoteOutcome, taskId: string): string {
  try {
    return pack(outcome, `the output of task "${taskId}"`);
  } catch (error) {
    // The reply's timings and thread, not its output (what was too large to pack).
    const { startedAt, finishedAt, threadId, tokens, cpuMs, events, worker } =
      'reply' in outcome ? outcome.reply : refusalReply(now());
    const base = { startedAt, finishedAt, threadId, tokens, cpuMs, events, worker };
    return pack(
      { kind: 'replied', reply: { ...base, ok: false, error: toTaskError(error) } },
      `the failure of task "${taskId}"`,
    );
  }
}
