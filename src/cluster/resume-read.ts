import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { now } from '../shared/clock.js';
import { AgentpoolError } from '../shared/errors.js';
import { agentHashes } from './agent-hash.js';
import { connect } from './connect.js';
import { RunJournal } from './journal.js';
import { before } from './outcome-wire.js';
import { redacted } from './preflight.js';
import type { RunRecord } from './run-record.js';
import type { ClusterSettings } from './settings.js';

const CONNECT_TIMEOUT_MS = 10_000;
// How often a resume looks at a lease it waits for.
const POLL_MS = 200;

/**
 * Reads run `runId`'s record from the journal for a resume, and waits (up to
 * `waitMs`) for the lease of the planner that ran it to lapse; `waiting` is
 * told once if it has to. Throws, coded and naming the run:
 * `ERR_RESUME_UNKNOWN_RUN` when this Redis (and prefix) has no such run,
 * `ERR_RESUME_NOT_RESUMABLE` for a batched fan-out (journaled without its
 * DAG), `ERR_RESUME_AGENT_CHANGED` when an agent's module is gone or its
 * source is not what the run started with (the tasks that finished would
 * mix with tasks of other code), `ERR_CLUSTER_UNREACHABLE` for a Redis that
 * does not answer. A lease still held after `waitMs` is left for the run
 * itself to refuse (`ERR_CLUSTER_RUN_LEASED`).
 */
export async function openRun(
  settings: ClusterSettings,
  runId: string,
  waitMs: number,
  waiting: (leftMs: number) => void,
): Promise<RunRecord & { dag: NonNullable<RunRecord['dag']> }> {
  const redis = connect(settings);
  // Connection errors: ioredis retries; the deadline below reports a Redis that never answers.
  redis.on('error', () => undefined);
  try {
    const journal = new RunJournal(redis, settings, randomUUID());
    const record = await before(
      journal.read(runId),
      CONNECT_TIMEOUT_MS,
      () =>
        new AgentpoolError(
          'ERR_CLUSTER_UNREACHABLE',
          `Redis at ${redacted(settings.url)} did not answer within ${CONNECT_TIMEOUT_MS / 1000} s`,
        ),
    );
    const run = JSON.stringify(runId);
    if (record === undefined)
      throw new AgentpoolError(
        'ERR_RESUME_UNKNOWN_RUN',
        `the journal at ${redacted(settings.url)} (prefix "${settings.prefix}") has no run ${run}: never run there with --redis, or its journal expired (7 days after its last write)`,
      );
    if (record.dag === null)
      throw new AgentpoolError(
        'ERR_RESUME_NOT_RESUMABLE',
        `run ${run} is a batched fan-out: its journal holds no DAG to resume`,
      );
    await checkAgents(record, run);
    const deadline = now() + waitMs;
    let told = false;
    for (let left = await journal.leases.left(runId); left > 0; ) {
      if (now() >= deadline) break;
      if (!told) waiting(left);
      told = true;
      await new Promise((resolve) => setTimeout(resolve, Math.min(left, POLL_MS)));
      left = await journal.leases.left(runId);
    }
    return record as RunRecord & { dag: NonNullable<RunRecord['dag']> };
  } finally {
    redis.disconnect();
  }
}

/** Refuses a resume whose agents' modules are not the code the run started with. */
async function checkAgents(record: RunRecord, run: string): Promise<void> {
  const modules = new Map(Object.entries(record.agents).map(([name, a]) => [name, a.module]));
  const hashes = await agentHashes(modules);
  for (const [name, hash] of hashes) {
    if (hash === record.hashes[name]) continue;
    const file = fileURLToPath(modules.get(name) as string);
    const why = hash.startsWith('missing:')
      ? `cannot be read here (${hash.slice('missing:'.length)})`
      : 'changed since the run started';
    throw new AgentpoolError(
      'ERR_RESUME_AGENT_CHANGED',
      `run ${run}: agent "${name}"'s module ${file} ${why}; start a new run (another --run-id) to run other code`,
    );
  }
}
