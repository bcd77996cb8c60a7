// Piscina worker entry: one task message in, one reply out. Built as its own
// file (dist/workers/worker.js) and located by the pool with import.meta.url.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { toTaskError } from '../src/shared/errors.js';
import {
  type NotBegun,
  STRAY_MARK,
  type StrayError,
  type WorkerGroup,
  type WorkerJob,
  type WorkerReply,
} from '../src/shared/protocol.js';
import {
  awaitDelivered,
  markFinished,
  markLoaded,
  markSeen,
  markStarted,
  refuse,
  undelivered,
} from '../src/shared/start-board.js';
import { hostCalls, threadLink } from './channel.js';
import { drained } from './drained.js';
import { enter, leave, type Owner, post, repair, retire, strayTo } from './guards.js';
import { runBatch } from './run-batch.js';
import { type RunTaskOptions, runTask } from './run-task.js';
import { runBudgetSpent } from './tokens.js';

// piscina may post a thread several attempts at once (`inFlightPerThread`),
// so the next is at hand the moment one ends; they still run one at a time.
let turn: Promise<unknown> = Promise.resolve();
// Attempts handed to this thread and not yet ended.
let held = 0;
// Whether one of them is running now.
let running = false;

// An error nothing caught ends the thread. Thrown while no attempt runs, it
// is agent code left behind by a task that has ended, and no task fails for
// it: say so before the thread goes (Node delivers it despite the exit).
process.on('uncaughtExceptionMonitor', (error) => {
  if (running) return;
  report(
    error,
    'agent code threw while no task was running on its thread (left behind by a task that had ended: a timer, a callback); the thread was replaced',
  );
});

/** Tells the main thread (a warning there, and `stats().strayErrors`) of what no task's result can carry. */
function report(
  error: unknown,
  what: string,
  code: 'ERR_WORKER_CRASHED' | 'ERR_TASK_FAILED' = 'ERR_WORKER_CRASHED',
): void {
  const data = toTaskError(error, code);
  data.message = `${what}: ${data.message}`;
  const stray: StrayError = { type: STRAY_MARK, error: data };
  if (parentPort) post(parentPort, stray);
}

// A timer or callback an ended attempt left behind threw: its maker's error,
// not the running attempt's, which goes on, and so does the thread.
strayTo((owner, error) =>
  report(
    error,
    `task "${owner.taskId}" left a callback behind that threw after the task had ended (its result stands; no other task failed for it)`,
    'ERR_TASK_FAILED',
  ),
);

let current: Owner | undefined;
/**
 * After agent code ran (its module loaded, its handler returned): what it
 * replaced among the builtins is put back before any other code relies on
 * it; a thread where that cannot be done is ended, its attempt with it.
 */
function afterAgent(): void {
  const changed = repair();
  if (changed === undefined) return;
  const task = current?.taskId ?? '(unknown)';
  if (changed.broken.length > 0) {
    report(
      new Error(`redefined for good: ${changed.broken.join(', ')}`),
      `task "${task}" changed builtins its thread relies on and they cannot be restored; the thread was ended`,
    );
    retire();
  }
  report(
    new Error(changed.restored.join(', ')),
    `task "${task}" replaced builtins its thread relies on; they were restored for the next tasks`,
    'ERR_TASK_FAILED',
  );
}

export default function run(job: WorkerJob | WorkerGroup): Promise<WorkerReply | WorkerReply[]> {
  // An idle thread blocks in Atomics.wait (piscina), and its timers with it.
  // Let any now due fire before the attempt is claimed: an error one of them
  // throws (left behind by an earlier task) then ends the thread while this
  // attempt can still be handed to another, instead of failing it. Only when
  // some timer is pending: the wait costs an idle thread's round trip ~10%.
  const catchUp = held++ === 0 && process.getActiveResourcesInfo().includes('Timeout');
  const go = (): Promise<WorkerReply | WorkerReply[]> =>
    'group' in job ? runGroup(job.group) : attempt(job);
  const result = turn.then(() => (catchUp ? afterDueTimers(go) : go()));
  turn = result.then(posted, posted).finally(() => held--);
  return result;
}

// piscina posts a reply in a microtask after `run`'s promise settles (its
// streams drained by then: see `drained`). An attempt queued behind begins a
// macrotask later, so that an exit of its own cannot come before that post.
function posted(): Promise<void> | undefined {
  return held > 1 ? new Promise((resolve) => setImmediate(resolve)) : undefined;
}

// Posted is not enough for an attempt seen from outside when the thread
// then exits (a later attempt's process.exit): the main thread may hear of
// the exit (the worker's 'exit' event) before it reads a reply already on
// piscina's port, and a seen attempt cannot run again (chaos: a
// chunks-then-fail task failed ERR_WORKER_CRASHED ~1 run in 8 under load;
// an unseen one just runs again). So an exiting thread first waits until
// the main thread has read such replies: nothing is paid until it exits.
// (Waiting before each next attempt instead cost every seen attempt a round
// trip and let the planner take back the attempt on deck behind it.)
// Bounded, should the read never come.
const DELIVERY_WAIT_MS = 5_000;
// Slots of attempts that finished seen and whose replies may not be read yet.
let unread: number[] = [];
process.on('exit', () => {
  const until = Date.now() + DELIVERY_WAIT_MS;
  for (const s of unread) awaitDelivered(starts, s, Math.max(0, until - Date.now()));
});

// Two immediates: the loop may be past its timers phase when the first is
// queued, never when the second is.
function afterDueTimers<T>(go: () => Promise<T>): Promise<T> {
  return new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve))).then(go);
}

const DEFERRED: NotBegun = { notBegun: 'deferred' };

/**
 * Runs a group's members in order, each as if it had come alone; their
 * replies travel together, when the last is done. After a member that showed
 * something outside its thread (a chunk, a host call) the rest are handed
 * back unbegun: were the thread ended for a later member's timeout, that
 * member's reply would be lost with the group's, and it could not run again
 * unseen. (One that finished unseen can: see `PoolSubmission.spare`.)
 */
async function runGroup(jobs: readonly WorkerJob[]): Promise<WorkerReply[]> {
  const replies: WorkerReply[] = [];
  let cut = false;
  for (const job of jobs) {
    if (cut) {
      replies.push(DEFERRED);
      continue;
    }
    lastSeen = false;
    replies.push(await attempt(job));
    cut = lastSeen;
  }
  return replies;
}

const { starts } = workerData as { starts: SharedArrayBuffer };
// The slot of the attempt running now; one options object serves them all.
let slot = -1;
const options: RunTaskOptions = {
  link: threadLink,
  loaded: () => markLoaded(starts, slot),
  seen: () => markSeen(starts, slot),
  afterAgent,
};

// Whether the attempt that ran last showed something outside its thread.
let lastSeen = false;
const REFUSED: NotBegun = { notBegun: 'refused' };
const CANCELLED: NotBegun = { notBegun: 'cancelled' };

async function attempt({ request: message, slot: startSlot }: WorkerJob): Promise<WorkerReply> {
  // Queued behind the attempt that spent the run's token budget: the
  // planner would not start it now, so neither does the thread.
  if (message.runTokens && runBudgetSpent(message.runTokens) && refuse(starts, startSlot))
    return REFUSED;
  // Cancelled while it waited in the pool's queue: it must not run at all.
  if (!markStarted(starts, startSlot, threadId)) return CANCELLED;
  slot = startSlot;
  const calls = hostCalls();
  running = true;
  const owner: Owner = { taskId: message.taskId, ended: false };
  current = owner;
  enter(owner);
  // Never rejects: whatever the agent does comes back as a reply.
  const reply = await (message.batch ? runBatch : runTask)(message, options);
  leave(owner);
  running = false;
  // Seen from outside its thread: running it again would repeat that.
  const seen =
    reply.events > 0 ||
    hostCalls() !== calls ||
    (message.runTokens !== undefined && reply.tokens > 0);
  markFinished(starts, startSlot, seen);
  lastSeen = seen;
  unread = unread.filter((s) => undelivered(starts, s));
  if (undelivered(starts, startSlot)) unread.push(startSlot);
  // Its reply goes once stdout and stderr have drained: a stream that never
  // does times out this attempt ("its reply never came"), while the next
  // attempt on the thread waits, unbegun.
  await drained();
  // The serialized output is copied to the main thread, not transferred:
  // detaching an ArrayBuffer even once invalidates V8's "no buffer was ever
  // detached" protector for the thread's whole life, and from then on every
  // typed-array access its agents make carries a detach check (measured: a
  // Float64Array-heavy agent ran 1.45x slower on every later task).
  return reply;
}
