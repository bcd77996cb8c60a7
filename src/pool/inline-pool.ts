import { performance } from 'node:perf_hooks';
import { now } from '../shared/clock.js';
import type { Link, TaskRequest, WireReply } from '../shared/protocol.js';
import { decodeReply, failureReply } from './decode.js';
import type { Executor, Outcome, Probe, Submission } from './executor.js';
import type { HostBridge } from './host-bridge.js';

type RunInline = (
  request: TaskRequest,
  options: { cancelSignal: () => AbortSignal; link: () => Link },
) => Promise<WireReply>;

// Loaded by URL, as piscina loads the thread entry: src/ imports nothing of
// workers/ (the two share only src/shared/). Loaded on the first attempt.
const INLINE_URL = new URL('../../workers/inline.js', import.meta.url);
let entry: Promise<RunInline> | undefined;
function runInline(): Promise<RunInline> {
  entry ??= import(INLINE_URL.href).then((mod: { runInline: RunInline }) => mod.runInline);
  return entry;
}

/**
 * `threads: 0`: attempts run one at a time on the main thread, for debugging
 * and tests. Messages and outputs are copied as they would be between
 * threads, so an agent behaves (and an uncloneable output fails) the same
 * way. A timeout cannot stop a synchronous loop here, memory caps do not
 * apply, and CPU time is the main thread's; a stuck attempt is abandoned.
 */
export class InlinePool implements Executor {
  readonly threads = 1;
  readonly terminates = false;
  readonly #bridge: HostBridge;

  constructor(bridge: HostBridge) {
    this.#bridge = bridge;
  }

  hasRoom(): boolean {
    return true; // The runtime's single slot is the limit.
  }

  submit(request: TaskRequest): Submission {
    const startedAt = now();
    const active = performance.eventLoopUtilization().active;
    // Made only if the agent reads ctx.signal: most never do, and it costs.
    let controller: AbortController | undefined;
    let aborted = false;
    const cancelSignal = () => {
      controller ??= new AbortController();
      if (aborted) controller.abort();
      return controller.signal;
    };
    let abandon: () => void = () => {};
    const abandoned = new Promise<Outcome>((resolve) => {
      abandon = () => resolve({ kind: 'aborted' });
    });
    const attempt = async (): Promise<Outcome> => {
      let copy: TaskRequest;
      try {
        copy = structuredClone(request);
      } catch (error) {
        return { kind: 'crashed', reply: failureReply(error, now()) };
      }
      const run = await runInline();
      const reply = decodeReply(await run(copy, { cancelSignal, link: () => this.#bridge.inline }));
      return { kind: 'replied', reply };
    };
    const outcome = Promise.race([attempt(), abandoned]);
    let settled = false;
    void outcome.then(() => {
      settled = true;
    });
    return {
      outcome,
      threadId: undefined,
      probe: (): Probe =>
        settled || aborted
          ? { phase: 'gone' }
          : {
              phase: 'running',
              startedAt,
              activeMs: performance.eventLoopUtilization().active - active,
            },
      // Inline, an attempt starts the moment it is handed over.
      withdraw: () => false,
      abort: () => {
        aborted = true;
        controller?.abort();
        abandon();
        // Nothing stops a synchronous loop on the main thread: it is only abandoned.
        return Promise.resolve(settled ? 'not-running' : 'abandoned');
      },
      overdue: () => {},
    };
  }

  liveThreads(): number {
    return 0;
  }

  stuckThreads(): number {
    return 0;
  }

  async close(): Promise<void> {}
}
