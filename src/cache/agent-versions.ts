import { Worker } from 'node:worker_threads';
import type { ModuleProbe, VersionReply } from '../shared/module-probes.js';

const WORKER_URL = new URL('../../workers/agent-version.js', import.meta.url);

/** A module that takes longer than this to load is given up on (its tasks run uncached). */
const LOAD_TIMEOUT_MS = 30_000;

/**
 * The `version` each module declares, read by loading it in a thread of
 * its own (one for all, then ended). A module that cannot be loaded maps to
 * an error message: its tasks run uncached, and fail there as they would.
 */
export async function readVersions(
  modules: readonly ModuleProbe[],
): Promise<Map<string, { version: string | null } | { error: string }>> {
  const found = new Map<string, VersionReply>();
  let worker: Worker | undefined;
  try {
    for (const request of modules) {
      worker ??= new Worker(WORKER_URL);
      const thread: Worker = worker;
      const reply = await new Promise<VersionReply>((resolve) => {
        const settle = (value: VersionReply) => {
          clearTimeout(timer);
          thread.off('message', settle);
          thread.off('error', onError);
          thread.off('exit', onExit);
          resolve(value);
        };
        const timer = setTimeout(
          () => settle({ error: `did not load within ${LOAD_TIMEOUT_MS / 1000} s` }),
          LOAD_TIMEOUT_MS,
        );
        const onError = (error: Error) => settle({ error: error.message });
        const onExit = (code: number) => settle({ error: `its thread exited (code ${code})` });
        thread.on('message', settle);
        thread.once('error', onError);
        thread.once('exit', onExit);
        thread.postMessage(request);
      });
      found.set(request.href, reply);
      if ('error' in reply) {
        // The thread may be gone or stuck: the next module gets a fresh one.
        await worker.terminate();
        worker = undefined;
      }
    }
  } finally {
    await worker?.terminate();
  }
  return found;
}
