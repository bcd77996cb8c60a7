import { now } from '../shared/clock.js';
import { pack } from './job.js';
import type { RunJournal } from './journal.js';
import type { QueueJob } from './packs.js';
import type { RemoteSubmission } from './remote-submission.js';
import { refusalReply } from './worker-replies.js';

/** What resuming an attempt may do with it. */
export interface ResumeHandlers {
  /** Sends it out (it must run). */
  go(): Promise<void>;
  /** Hands over the reply an earlier planner journaled. */
  deliver(packed: string): void;
  /** Journals, then hands over, a reply made here. */
  ingest(packed: string): void;
}

/**
 * An attempt on a later planner of its run: one an earlier planner saw
 * finish is replayed from the journal; one it sent out in a pack is adopted
 * from that pack (its end read from the pack's result by the sweep; should
 * the pack be gone, it goes alone as `job`); a first attempt whose task
 * ended done there without running (a cache hit) is replayed from its
 * terminal entry; any other is sent out.
 */
export async function resumeAttempt(
  journal: RunJournal,
  submission: RemoteSubmission,
  job: QueueJob,
  handlers: ResumeHandlers,
): Promise<void> {
  const { runId, taskId, attempt } = submission.request;
  const found = await journal.previous(runId, taskId, attempt, submission.jobId);
  if (found === undefined) return handlers.go();
  if ('packed' in found) return handlers.deliver(found.packed);
  if ('pack' in found) {
    const adopted = { ...job, id: found.pack.id, name: 'adopted' };
    submission.pack = { pack: { job: adopted, fallback: job }, index: found.pack.index };
    return;
  }
  // It did not run here and took no time; journaled as this attempt's reply for any later planner.
  const reply = { ...refusalReply(now()), ok: true as const, output: found.output };
  handlers.ingest(pack({ kind: 'replied', reply }, `task "${taskId}"`));
}
