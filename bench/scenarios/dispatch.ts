import {
  CHAIN_FREE_DAG,
  DEFAULT_WINDOW,
  dispatchContenders,
  PISCINA,
  PISCINA_WINDOW,
} from '../lib/dispatch-contenders.js';
import { alternatingRounds, ratioPerRound } from '../lib/rounds.js';
import { cell, type Summary, summarize, table, time } from '../lib/stats.js';

export interface DispatchRow {
  name: string;
  /** Tasks per second, one per round. */
  rate: Summary;
  /** This row's rate over raw piscina's (1 in flight per thread), per round. */
  vsPiscina: Summary;
  /** … and over raw piscina with agentpool's default window in flight per thread. */
  vsPiscinaWindow: Summary;
}

/**
 * Tasks per second for no-op tasks submitted at once: agentpool (several
 * in-flight windows, `fanOut` and a chain-free DAG through `execute`,
 * batched) against raw piscina and the other Node pools on the same thread
 * count. Contenders alternate within each round; every ratio is taken within
 * a round and reported as the median and range over rounds.
 */
export async function dispatchScenario(options: {
  threads: number;
  tasks: number;
  rounds: number;
}): Promise<{ markdown: string; rows: DispatchRow[] }> {
  const { tasks, rounds, threads } = options;
  const all = dispatchContenders(threads);
  try {
    for (const c of all) await c.run(Math.min(1_000, tasks)); // warm: threads up, code hot
    const samples = await alternatingRounds(
      all,
      rounds,
      async (c) => tasks / ((await time(() => c.run(tasks))) / 1000),
    );
    const rows = all.map((c) => ({
      name: c.name,
      rate: summarize(samples.get(c.name) as number[]),
      vsPiscina: ratioPerRound(samples, c.name, PISCINA),
      vsPiscinaWindow: ratioPerRound(samples, c.name, PISCINA_WINDOW),
    }));
    const markdown = table(
      [
        'pool',
        'tasks/s (median)',
        'range',
        '÷ piscina, 1 in flight/thread',
        `÷ piscina, ${DEFAULT_WINDOW} in flight/thread`,
      ],
      rows.map((r) => [
        r.name,
        Math.round(r.rate.median).toLocaleString('en-US'),
        `${Math.round(r.rate.min).toLocaleString('en-US')}–${Math.round(r.rate.max).toLocaleString('en-US')}`,
        cell(r.vsPiscina),
        cell(r.vsPiscinaWindow),
      ]),
      ['l', 'r', 'r', 'r', 'r'],
    );
    return {
      rows,
      markdown: `### Dispatch: ${tasks.toLocaleString('en-US')} no-op tasks at once, ${threads} threads, ${rounds} rounds\n\nContenders alternate within each round (the order reversed every other round). Ratios are taken within each round: median (min–max over rounds). "${CHAIN_FREE_DAG}" is the same tasks as a DAG with no edges, validated and planned by \`execute\`.\n\n${markdown}`,
    };
  } finally {
    await Promise.all(all.map((c) => c.close()));
  }
}
