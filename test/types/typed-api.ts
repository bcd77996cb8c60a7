// Compiled by `npm run typecheck` (strict tsc), never run: each
// `@ts-expect-error` line must be an error and every other line must compile,
// so a typing that loosens or breaks fails the typecheck.
import { createRuntime, type TaskEvent } from 'agentpool';
import { type AgentContext, defineAgent } from 'agentpool/agent';

// The host services a project passes to createRuntime, their type given to agents.
const host = {
  search: async (query: string): Promise<string[]> => [query],
  count: (text: string) => text.length,
};
type Host = typeof host;

export const searcher = defineAgent<{ hits: string[]; n: number }, Host, { topic: string }>(
  async (prompt, ctx) => {
    const hits: string[] = await ctx.host.search(`${ctx.context.topic}: ${prompt}`);
    // A synchronous host function is async seen from a worker.
    const n: number = await ctx.host.count(prompt);
    // @ts-expect-error search takes a string
    await ctx.host.search(42);
    // @ts-expect-error no such host service
    await ctx.host.fetch(prompt);
    // @ts-expect-error the result is a promise, not the value
    const direct: number = ctx.host.count(prompt);
    // @ts-expect-error the context declares `topic`, a string
    const topic: number = ctx.context.topic;
    void direct;
    void topic;
    return { hits, n };
  },
);

// @ts-expect-error the handler must return the declared output
export const wrong = defineAgent<{ hits: string[] }, Host>(() => ({ hits: 'one' }));

// Without a declared host, a service cannot be called: declare it (HostServices or the Host argument).
export const undeclared = defineAgent(async (prompt, ctx) => {
  // @ts-expect-error no host declared
  return ctx.host.anything(prompt);
});

export function usesContext(ctx: AgentContext<Host>): Promise<string[]> {
  return ctx.host.search('x');
}

const runtime = createRuntime({ host, agents: { searcher: './agents/searcher.js' } });

// A final event's type narrows its result.
runtime.on('task', (event: TaskEvent) => {
  if (event.type === 'failed') {
    const code: string = event.result.error.code;
    void code;
  }
  if (event.type === 'done') {
    const output: unknown = event.result.output;
    // @ts-expect-error a done task has no error
    const code: string = event.result.error.code;
    void output;
    void code;
  }
  if (event.type === 'started') {
    const attempt: number = event.attempt;
    void attempt;
  }
});
