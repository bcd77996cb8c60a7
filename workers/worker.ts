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

export default function run(message: TaskMessage): Promise<unknown> {
  const result = turn.then(() => attempt(message));
  turn = result.catch(() => {});
  return result;
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
