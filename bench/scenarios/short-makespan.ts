import { idealListScheduler } from '../lib/list-scheduler.js';
import { lowerBound } from '../lib/random-dag.js';
import { alternatingRounds, ratioPerRound } from '../lib/rounds.js';
import { agentpool, agentpoolRuntime, type Scheduler, WaitPool } from '../lib/schedulers.js';
import { shortTaskDag } from '../lib/short-dag.js';
import { cell, type Summary, summarize, table, time } from '../lib/stats.js';

export const IDEAL = 'ideal list scheduler (raw piscina, true ranks)';
export const SHORT_SCHEDULERS = [IDEAL, 'agentpool (cost hints)', 'agentpool (no hints)'] as const;

export interface ShortMakespanRow {
  threads: number;
  scheduler: string;
  /** makespan / lower bound, one per round. */
  vsBound: Summary;
  /** makespan / the ideal list scheduler's in the same round. */
  vsIdeal: Summary;
}

/**
 * Issue 10's short-task DAGs (2–12 ms, a tenth 40–100 ms) at each thread
 * count: agentpool against the ideal list scheduler on raw piscina. One DAG
 * per round (a new seed each round), every scheduler runs it, in reversed
 * order every other round; ratios are per round.
 */
export async function shortMakespanScenario(options: {
  threads: number[];
  tasks: number;
  rounds: number;
}): Promise<{ rows: ShortMakespanRow[]; markdown: string }> {
  const rows: ShortMakespanRow[] = [];
  for (const threads of options.threads) {
    const pool = new WaitPool(threads);
    const runtime = agentpoolRuntime(threads);
    try {
      const run: Record<(typeof SHORT_SCHEDULERS)[number], Scheduler> = {
        [IDEAL]: idealListScheduler(pool, threads),
        'agentpool (cost hints)': agentpool(runtime, true),
        'agentpool (no hints)': agentpool(runtime, false),
      };
      const warm = shortTaskDag({ tasks: 60, seed: 3 });
      for (const scheduler of Object.values(run)) await scheduler(warm);
      const contenders = SHORT_SCHEDULERS.map((name) => ({ name }));
      let round = 0;
      const bounds: number[] = [];
      let dag = shortTaskDag({ tasks: options.tasks, seed: 500 });
      // alternatingRounds calls each contender once per round: a new DAG when a round begins.
      let seen = 0;
      const samples = await alternatingRounds(contenders, options.rounds, async (c) => {
        if (seen % contenders.length === 0) {
          dag = shortTaskDag({ tasks: options.tasks, seed: 500 + round++ });
          bounds.push(lowerBound(dag, threads).boundMs);
        }
        seen++;
        return time(() => run[c.name](dag));
      });
      for (const name of SHORT_SCHEDULERS) {
        const ms = samples.get(name) as number[];
        rows.push({
          threads,
          scheduler: name,
          vsBound: summarize(ms.map((x, r) => x / (bounds[r] as number))),
          vsIdeal: ratioPerRound(samples, name, IDEAL),
        });
      }
    } finally {
      await Promise.all([pool.close(), runtime.close()]);
    }
  }
  const markdown = table(
    [
      'threads',
      ...SHORT_SCHEDULERS.map((n) => `${n} ÷ bound`),
      ...SHORT_SCHEDULERS.slice(1).map((n) => `${n} ÷ ideal`),
    ],
    options.threads.map((threads) => {
      const row = (name: string) =>
        rows.find((r) => r.threads === threads && r.scheduler === name) as ShortMakespanRow;
      return [
        threads,
        ...SHORT_SCHEDULERS.map((n) => cell(row(n).vsBound, 3)),
        ...SHORT_SCHEDULERS.slice(1).map((n) => cell(row(n).vsIdeal, 3)),
      ];
    }),
  );
  return {
    rows,
    markdown: `### Short-task makespan (${options.tasks} tasks: 90% of 2–12 ms, 10% of 40–100 ms, edges up to 20 back; ${options.rounds} rounds, a new DAG each, schedulers alternating; median and min–max; lower is better)\n\n${markdown}`,
  };
}
