import { createRuntime } from '../../src/index.js';
import { alternatingRounds, ratioPerRound } from '../lib/rounds.js';
import { cell, type Summary, summarize, table, time } from '../lib/stats.js';

export interface ChannelRow {
  agent: string;
  what: string;
  /** µs per task, one per round. */
  us: Summary;
  /** µs per task over the quiet agent's, per round (1 = free). */
  vsQuiet: Summary;
}

const QUIET = 'noop';

/**
 * What the worker-to-host channel costs a task: the same fan-out of tiny
 * tasks with an agent that never touches it, one that sends a progress
 * report and a chunk, and one that calls a host service (`ctx.host.echo`,
 * a comlink round trip to the main thread), alternating within each round.
 */
export async function channelScenario(options: {
  threads: number;
  tasks: number;
  rounds: number;
}): Promise<{ markdown: string; rows: ChannelRow[] }> {
  const { tasks, rounds, threads } = options;
  let calls = 0;
  const runtime = createRuntime({
    threads,
    retries: 0,
    agents: {
      noop: new URL('../agents/noop.js', import.meta.url),
      chatty: new URL('../agents/chatty.js', import.meta.url),
      'host-call': new URL('../agents/host-call.js', import.meta.url),
    },
    host: {
      echo: (x: string) => {
        calls++;
        return x;
      },
    },
  });
  let chunks = 0;
  runtime.on('chunk', () => {
    chunks++;
  });
  const agents = [
    { name: QUIET, what: 'never uses the channel' },
    { name: 'chatty', what: '1 progress report + 1 chunk' },
    { name: 'host-call', what: '1 host-service call (`await ctx.host.echo(prompt)`)' },
  ];
  const prompts = Array.from({ length: tasks }, (_, i) => `p${i}`);
  const perTask = async (agent: string) => {
    let failed = 0;
    const ms = await time(async () => {
      failed = (await runtime.fanOut(agent, prompts)).filter((r) => r.status !== 'done').length;
    });
    if (failed > 0) throw new Error(`channel: ${failed} ${agent} tasks did not finish`);
    return (ms * 1000) / tasks;
  };
  let samples: Map<string, number[]>;
  try {
    for (const a of agents) await perTask(a.name); // warm: threads up, modules loaded
    samples = await alternatingRounds(agents, rounds, (a) => perTask(a.name));
  } finally {
    await runtime.close();
  }
  // Every event and call must have arrived, or the cheap rows measured less than they claim.
  const runs = (rounds + 1) * tasks;
  if (chunks !== runs || calls !== runs)
    throw new Error(`channel: expected ${runs} chunks and host calls, got ${chunks} and ${calls}`);
  const rows = agents.map((a) => ({
    agent: a.name,
    what: a.what,
    us: summarize(samples.get(a.name) as number[]),
    vsQuiet: ratioPerRound(samples, a.name, QUIET),
  }));
  const markdown = table(
    ['agent', 'µs per task (median)', 'range', '÷ never uses the channel, per round'],
    rows.map((r) => [
      r.what,
      r.us.median.toFixed(1),
      `${r.us.min.toFixed(1)}–${r.us.max.toFixed(1)}`,
      cell(r.vsQuiet),
    ]),
    ['l', 'r', 'r', 'r'],
  );
  return {
    rows,
    markdown: `### Worker-to-host channel: ${tasks.toLocaleString('en-US')} tiny tasks on ${threads} threads, ${rounds} rounds\n\nThe agents alternate within each round; ratios are per round, median (min–max).\n\n${markdown}`,
  };
}
