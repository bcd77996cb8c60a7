import { Piscina } from 'piscina';
import { createRuntime } from '../../src/index.js';
import { cell, type Summary, summarize, table } from '../lib/stats.js';
import { latencies, type TinyBudget } from '../lib/tiny.js';

export interface RoundTripRow {
  name: string;
  /** Median latency of one round trip, µs, one per round. */
  us: Summary;
  /** This row's median latency over raw piscina's, per round (lower is better). */
  vsPiscina: Summary;
}

const PISCINA = 'piscina.run (raw)';

/**
 * One no-op task at a time, main thread to worker and back: the latency a
 * lone task pays, measured with tinybench. Each round is one tinybench run of
 * all three, in reversed order every other round; ratios are per round.
 */
export async function roundTripScenario(options: {
  threads: number;
  rounds: number;
  budget: TinyBudget;
}): Promise<{ markdown: string; rows: RoundTripRow[] }> {
  const pool = new Piscina({
    filename: new URL('../workers/noop.js', import.meta.url).href,
    minThreads: options.threads,
    maxThreads: options.threads,
  });
  const runtime = createRuntime({
    threads: options.threads,
    retries: 0,
    agents: { noop: new URL('../agents/noop.js', import.meta.url) },
  });
  const one = { t: { agent: 'noop', prompt: '' } };
  const tasks: [string, () => Promise<unknown>][] = [
    [PISCINA, () => pool.run(0)],
    [
      'agentpool fanOut, 1 prompt',
      async () => {
        const [result] = await runtime.fanOut('noop', ['']);
        if (result?.status !== 'done') throw new Error('round trip: task did not finish');
      },
    ],
    [
      'agentpool execute, 1-task DAG',
      async () => {
        const run = await runtime.execute(one);
        if (run.done !== 1) throw new Error('round trip: task did not finish');
      },
    ],
  ];
  const perRound: Map<string, number>[] = [];
  try {
    for (let r = 0; r < options.rounds; r++) {
      const order = r % 2 ? [...tasks].reverse() : tasks;
      const stats = await latencies(Object.fromEntries(order), options.budget, true);
      perRound.push(new Map([...stats].map(([name, l]) => [name, l.median * 1000])));
    }
  } finally {
    await Promise.all([pool.close(), runtime.close()]);
  }
  const rows = tasks.map(([name]) => ({
    name,
    us: summarize(perRound.map((m) => m.get(name) as number)),
    vsPiscina: summarize(perRound.map((m) => (m.get(name) as number) / (m.get(PISCINA) as number))),
  }));
  const markdown = table(
    ['one task at a time', 'µs per round trip (median of rounds)', 'range', '÷ raw piscina'],
    rows.map((r) => [
      r.name,
      r.us.median.toFixed(1),
      `${r.us.min.toFixed(1)}–${r.us.max.toFixed(1)}`,
      cell(r.vsPiscina),
    ]),
    ['l', 'r', 'r', 'r'],
  );
  return {
    rows,
    markdown: `### Single-task round trip (tinybench): ${options.threads} threads, ${options.rounds} rounds\n\nEach round is one tinybench run (median latency of each, at least ${options.budget.iterations} calls or ${options.budget.timeMs} ms after ${options.budget.warmupIterations} warm-up calls); ratios are per round, lower is better.\n\n${markdown}`,
  };
}
