import type { Probe } from '../pool/executor.js';
import type { ActiveJob, ActiveJobs } from './active-jobs.js';
import type { JobData } from './job.js';
import type { RemoteOutcome } from './outcome-wire.js';
import type { ReplyWriter } from './reply-writer.js';
import { packOutcome } from './worker-replies.js';

/** What running a pack needs of its worker. */
export interface PackRunner {
  readonly active: ActiveJobs;
  readonly writer: ReplyWriter;
  /** Runs one attempt opened in `active` on the worker's threads, as one of a pack (see `runLocally`). */
  run(
    data: JobData,
    active: ActiveJob,
    watch: (probe: () => Probe) => void,
  ): Promise<RemoteOutcome>;
}

/** A pack running on this worker: its attempts' ids, and whether its job's lock was lost. */
export interface RunningPack {
  readonly ids: readonly string[];
  lost: boolean;
}

/**
 * A pack's attempts (`refused[n]`: why attempt n must not run, from
 * `refuseJob`), handed to the worker's threads all at once, so the pool
 * groups them on threads as it groups a local run's short attempts. Each is
 * open from the start (a cancel reaches one still queued), says its start
 * once its thread begins it, and is sent to its planner as it ends; all
 * their outcomes, in order, are the job's result. Once the job's lock is
 * lost (another worker may run the pack now), nothing more is sent.
 */
export async function runPack(
  runner: PackRunner,
  pack: RunningPack,
  attempts: readonly JobData[],
  streams: readonly string[],
  refused: readonly (RemoteOutcome | undefined)[],
): Promise<string[]> {
  const { active: jobs, writer } = runner;
  const opened = attempts.map((data, n) =>
    refused[n] === undefined
      ? jobs.open(pack.ids[n] as string, data, streams[n] as string)
      : undefined,
  );
  try {
    return await Promise.all(
      attempts.map(async (data, n) => {
        const id = pack.ids[n] as string;
        const stream = streams[n] as string;
        const active = opened[n];
        const outcome =
          active === undefined
            ? (refused[n] as RemoteOutcome)
            : await runner.run(data, active, (probe) => writer.expect(stream, id, probe));
        const packed = packOutcome(outcome, data.taskId);
        if (pack.lost) writer.forget(id);
        else writer.replied(stream, id, packed);
        return packed;
      }),
    );
  } finally {
    opened.forEach((active, n) => {
      if (active !== undefined) jobs.close(active, attempts[n] as JobData);
    });
  }
}
