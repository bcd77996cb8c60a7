import { defineAgent } from '../../workers/agent.js';

/** The host the channel scenario registers. */
interface EchoHost {
  echo(text: string): string;
}

/** Calls the host service `echo` once (comlink, to the main thread and back). */
export default defineAgent<number, EchoHost>(async (prompt, ctx) => {
  const answer = await ctx.host.echo(prompt);
  if (answer !== prompt) throw new Error(`host echo returned ${String(answer)}`);
  return 0;
});
