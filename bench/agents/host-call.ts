import { defineAgent } from '../../workers/agent.js';

/** Calls the host service `echo` once (comlink, to the main thread and back). */
export default defineAgent(async (prompt, ctx) => {
  // Host services are typed by the runtime that registers them, not here.
  const echo = ctx.host.echo as ((text: string) => Promise<unknown>) | undefined;
  const answer = await echo?.(prompt);
  if (answer !== prompt) throw new Error(`host echo returned ${String(answer)}`);
  return 0;
});
