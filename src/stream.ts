import type { ChunkEvent, EventMap, EventName, ProgressEvent } from './events.js';
import type { TaskResult } from './results.js';
import { AgentpoolError } from './shared/errors.js';

/** What `stream(dag, { events: true })` yields: results, with progress and chunks interleaved. */
export type StreamItem = { type: 'result'; result: TaskResult } | ProgressEvent | ChunkEvent;

/** Sees every event of one run. */
export type Tap = <E extends EventName>(name: E, event: EventMap[E]) => void;

/**
 * Yields one run's results as they end (with `events`, as `StreamItem`s with
 * its progress and chunks in between, a task's always before its result).
 * `begin` starts the run with the signal to stop it by and the tap to hear
 * it through; leaving the loop early stops it and waits for its end.
 */
export async function* streamRun(
  begin: (signal: AbortSignal, tap: Tap) => { done: Promise<unknown> },
  signal: AbortSignal | undefined,
  events: boolean,
): AsyncGenerator<TaskResult | StreamItem, void, undefined> {
  const stop = new AbortController();
  const items: (TaskResult | StreamItem)[] = [];
  let wake: (() => void) | undefined;
  const push = (item: TaskResult | StreamItem) => {
    items.push(item);
    wake?.();
  };
  const run = begin(
    signal ? AbortSignal.any([signal, stop.signal]) : stop.signal,
    (name, event) => {
      if (name !== 'task') {
        if (events) push(event as StreamItem);
      } else if ('result' in event) {
        push(events ? { type: 'result', result: event.result } : event.result);
      }
    },
  );
  let finished = false;
  void run.done.then(() => {
    finished = true;
    wake?.();
  });
  try {
    for (let next = 0; ; ) {
      while (next < items.length) yield items[next++] as TaskResult | StreamItem;
      // Drained: let go of what was yielded.
      items.length = 0;
      next = 0;
      if (finished) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  } finally {
    if (!finished) {
      stop.abort(new AgentpoolError('ERR_CANCELLED', 'stream consumer stopped reading'));
      await run.done;
    }
  }
}
