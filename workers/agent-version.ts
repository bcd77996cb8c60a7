// Worker entry of the task cache: loads agent modules, one per message, with
// the loader task threads use, and answers with the `version` each declares
// (`defineAgent(handler, { version })`). Used only for a module whose source
// bytes the cache has not seen before (it remembers the answer per source),
// so a fully cached run starts no thread. A thread of its own keeps the
// module's side effects off the main thread. Built as dist/workers/agent-version.js.
import { parentPort } from 'node:worker_threads';
import { describe } from '../src/shared/errors.js';
import type { ModuleProbe, VersionReply } from '../src/shared/module-probes.js';
import { AGENT } from './agent-mark.js';
import { handlerFor } from './load-agent.js';

parentPort?.on('message', async ({ agent, href }: ModuleProbe) => {
  let reply: VersionReply;
  try {
    // Registers the TypeScript loader where needed, and checks the default export.
    await handlerFor(href, agent);
    const exported = ((await import(href)) as { default?: unknown }).default;
    const version =
      typeof exported === 'object' && exported !== null && AGENT in exported
        ? (exported as { version?: unknown }).version
        : undefined;
    reply = { version: typeof version === 'string' ? version : null };
  } catch (error) {
    reply = { error: error instanceof Error ? error.message : describe(error) };
  }
  parentPort?.postMessage(reply);
});
