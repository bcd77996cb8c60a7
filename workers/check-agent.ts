// Worker entry of `agentpool validate`: loads agent modules, one per message,
// with the loader task threads use (tsx for TypeScript, the default-export
// check), and answers each with what went wrong, if anything. A thread of its
// own keeps a module's side effects off the CLI's: a top-level timer or
// socket cannot keep validate from exiting, a process.exit() ends only this
// thread. Built as dist/workers/check-agent.js.
import { parentPort } from 'node:worker_threads';
import { describe } from '../src/errors.js';
import { handlerFor } from './load-agent.js';

/** One module to load, and the agent it is for (named in the loader's errors). */
export interface CheckRequest {
  agent: string;
  href: string;
}

/** null: the module loads and exports an agent. */
export type CheckReply = { code: string; message: string } | null;

parentPort?.on('message', async ({ agent, href }: CheckRequest) => {
  let reply: CheckReply = null;
  try {
    await handlerFor(href, agent);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    reply = {
      code: typeof code === 'string' ? code : 'ERR_AGENT_LOAD',
      message: error instanceof Error ? error.message : describe(error),
    };
  }
  parentPort?.postMessage(reply);
});
