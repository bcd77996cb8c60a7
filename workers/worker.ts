// Piscina worker entry: one task message in, one reply out. Built as its own
// file (dist/workers/worker.js) and located by the pool with import.meta.url.
import { threadId, workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { markFinished, markLoaded, markStarted, refuse } from '../src/pool/start-board.js';
import type { TaskMessage } from '../src/protocol.js';
import { threadLink } from './channel.js';
import { runBatch, runTask } from './run-task.js';
import { runBudgetSpent } from './tokens.js';

// piscina may post a thread several attempts at once (`inFlightPerThread`),
// so the next is at hand the moment one ends; they still run one at a time.
let turn: Promise<unknown> = Promise.resolve();
// Attempts handed to this thread and not yet ended.
let held = 0;

export default function run(message: TaskMessage): Promise<unknown> {
  // An idle thread blocks in Atomics.wait (piscina), and its timers with it.
  // Let any now due fire before the attempt is claimed: an error one of them
  // throws (left behind by an earlier task) then ends the thread while this
  // attempt can still be handed to another, instead of failing it.
  const idle = held++ === 0;
  const result = turn.then(() => (idle ? afterDueTimers(message) : attempt(message)));
  turn = result.catch(() => {}).finally(() => held--);
  return result;
}

// Two immediates: the loop may be past its timers phase when the first is
// queued, never when the second is.
function afterDueTimers(message: TaskMessage): Promise<unknown> {
  return new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve))).then(() =>
    attempt(message),
  );
}

const { starts } = workerData as { starts: SharedArrayBuffer };

async function attempt(message: TaskMessage): Promise<unknown> {
  // Queued behind the attempt that spent the run's token budget: the
  // planner would not start it now, so neither does the thread.
  if (message.runTokens && runBudgetSpent(message.runTokens) && refuse(starts, message.startSlot))
    return null;
  // Cancelled while it waited in the pool's queue: it must not run at all.
  if (!markStarted(starts, message.startSlot, threadId)) return null;
  const loaded = () => markLoaded(starts, message.startSlot);
  const reply = await (message.batch ? runBatch : runTask)(message, { link: threadLink, loaded });
  markFinished(starts, message.startSlot);
  if (!('encoded' in reply)) return reply;
  // Hand the serialized output's memory to the main thread instead of copying it.
  const movable = {
    [Piscina.transferableSymbol]: reply.encoded.buffer,
    [Piscina.valueSymbol]: reply,
  };
  return Piscina.move(movable as unknown as Parameters<typeof Piscina.move>[0]);
}
