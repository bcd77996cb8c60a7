// A ThreadPool of the built library (it locates its worker entry,
// dist/workers/entry.cjs, from its own URL) and the attempts its tests post.
import { HostBridge } from '../dist/src/pool/host-bridge.js';
import type { PoolSubmission } from '../dist/src/pool/submission.js';
import { ThreadPool } from '../dist/src/pool/thread-pool.js';
import type { Outcome } from '../src/pool/executor.js';
import type { TaskReply, TaskRequest } from '../src/shared/protocol.js';
import { fixture } from './helpers.js';

export type Posted = TaskRequest & { short?: boolean; behind?: number | undefined };

export function message(taskId: string, agent: string, prompt = ''): TaskRequest {
  return {
    runId: 'pool-test',
    taskId,
    agent,
    module: fixture(agent).href,
    prompt,
    context: {},
    deps: {},
    depStatus: {},
    attempt: 1,
    timeoutMs: 10_000,
    limits: {},
    encoding: 'o200k_base',
    countTokens: false,
  };
}

// Attempts posted one message each unless `coalesce` (the runtime's pools coalesce).
export function pool(perThread = 1, threads = 1, coalesce = false): ThreadPool {
  return new ThreadPool({
    threads,
    minThreads: threads,
    balance: 'least-busy',
    idleTimeoutMs: 10_000,
    inFlight: 4,
    perThread,
    coalesce,
    bridge: new HostBridge({}, { event: () => {} }),
  });
}

/** The reply an outcome carries; a failure naming the outcome when it has none. */
export function replyOf(outcome: Outcome): TaskReply {
  if (outcome.kind === 'replied' || outcome.kind === 'crashed') return outcome.reply;
  return {
    ok: false,
    error: { code: outcome.kind, message: outcome.kind },
  } as unknown as TaskReply;
}

/** Submits `posted` (its `short`/`behind` as hints); `reply` is its outcome's reply. */
export function run(
  threads: ThreadPool,
  posted: Posted,
): { sub: PoolSubmission; reply: Promise<TaskReply> } {
  const { short = false, behind, ...request } = posted;
  const sub = threads.submit(request, { short, behind });
  return { sub, reply: sub.outcome.then(replyOf) };
}
