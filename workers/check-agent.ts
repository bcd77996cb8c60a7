// Worker entry of `agentpool validate`: loads agent modules, one per message,
// with the loader task threads use (tsx for TypeScript, the default-export
// check), and answers each with what went wrong, if anything. A thread of its
// own keeps a module's side effects off the CLI's: a top-level timer or
// socket cannot keep validate from exiting, a process.exit() ends only this
// thread. Built as dist/workers/check-agent.js.
import { parentPort } from 'node:worker_threads';
import { describe } from '../src/shared/errors.js';
import type { CheckReply, ModuleProbe } from '../src/shared/module-probes.js';
import { handlerFor } from './load-agent.js';

parentPort?.on('message', async ({ agent, href }: ModuleProbe) => {
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
