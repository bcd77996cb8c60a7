import { Worker } from 'node:worker_threads';
import type { CheckReply, ModuleProbe } from '../shared/module-probes.js';

const WORKER_URL = new URL('../../workers/check-agent.js', import.meta.url);

/** A module that takes longer than this to load is reported, not waited for forever (`validate --load-timeout`). */
export const LOAD_TIMEOUT_MS = 30_000;

/**
 * Loads each agent module in a worker thread, as the runtime's threads
 * would, and returns what went wrong with each (a message per agent name;
 * none: every module loads and exports an agent). One thread serves them
 * all; if a module ends it (process.exit) or hangs, that module is
 * reported and a fresh thread takes the rest.
 */
export async function loadProblems(
  modules: readonly ModuleProbe[],
  timeoutMs = LOAD_TIMEOUT_MS,
): Promise<Map<string, string>> {
  const problems = new Map<string, string>();
  let worker: Worker | undefined;
  try {
    for (const request of modules) {
      worker ??= new Worker(WORKER_URL);
      const thread: Worker = worker;
      const outcome = await new Promise<CheckReply | string>((resolve) => {
        const timer = setTimeout(
          () =>
            resolve(
              `ERR_AGENT_LOAD: did not finish loading within ${timeoutMs} ms (validate --load-timeout)`,
            ),
          timeoutMs,
        );
        const settle = (value: CheckReply | string) => {
          clearTimeout(timer);
          thread.off('message', settle);
          thread.off('error', onError);
          thread.off('exit', onExit);
          resolve(value);
        };
        const onError = (error: Error) => settle(`ERR_AGENT_LOAD: ${error.message}`);
        const onExit = (code: number) =>
          settle(`ERR_AGENT_LOAD: the thread loading it exited (code ${code})`);
        thread.on('message', settle);
        thread.once('error', onError);
        thread.once('exit', onExit);
        thread.postMessage(request);
      });
      if (outcome === null) continue;
      if (typeof outcome === 'string') {
        // The thread is gone or stuck: the next module gets a fresh one.
        problems.set(request.agent, outcome);
        await worker.terminate();
        worker = undefined;
      } else {
        // The loader's message leads with the agent's name; the caller names it already.
        problems.set(
          request.agent,
          `${outcome.code}: ${outcome.message.replace(/^agent "[^"]*": /, '')}`,
        );
      }
    }
  } finally {
    await worker?.terminate();
  }
  return problems;
}
