import { Piscina } from 'piscina';
import { createRuntime } from '../../src/index.js';
import { DEFAULT_WINDOW } from '../lib/dispatch-contenders.js';
import { mainThreadCpuUs, mainThreadOnly, processCpuUs } from '../lib/main-cpu.js';
import { alternatingRounds } from '../lib/rounds.js';
import { cell, type Summary, summarize, table } from '../lib/stats.js';

export const CPU_PISCINA = `piscina (raw), ${DEFAULT_WINDOW} in flight per thread`;
export const CPU_FANOUT = 'agentpool fanOut (no batch)';
export const CPU_EXECUTE = 'agentpool execute, 1-task DAGs one at a time';

export interface MainCpuRow {
  name: string;
  /** Main-thread CPU µs per task, one per round. */
  mainUs: Summary;
  /** The whole process's CPU µs per task (workers included), one per round. */
  processUs: Summary;
}

/**
 * Main-thread CPU per dispatched no-op task: `tasks` tasks at once through
 * `fanOut` (no batch) and through raw piscina at agentpool's in-flight
 * window, and a tenth as many one-task `execute` calls in a row (what a lone
 * task costs before its message and after its reply). CPU time, not wall
 * time, so what other processes on the machine do changes it little.
 */
export async function mainCpuScenario(options: {
  threads: number;
  tasks: number;
  rounds: number;
}): Promise<{ rows: MainCpuRow[]; markdown: string }> {
  const { threads, tasks } = options;
  const noop = { noop: new URL('../agents/noop.js', import.meta.url) };
  const runtime = createRuntime({ threads, retries: 0, agents: noop });
  const pool = new Piscina({
    filename: new URL('../workers/noop.js', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: DEFAULT_WINDOW,
  });
  const blank = Array.from({ length: tasks }, () => '');
  const one = { t: { agent: 'noop', prompt: '' } };
  const singles = Math.max(100, Math.round(tasks / 10));
  const runs: Record<string, { count: number; run: () => Promise<void> }> = {
    [CPU_PISCINA]: {
      count: tasks,
      run: async () => {
        await Promise.all(blank.map(() => pool.run(0)));
      },
    },
    [CPU_FANOUT]: {
      count: tasks,
      run: async () => {
        const results = await runtime.fanOut('noop', blank);
        if (results.some((r) => r.status !== 'done')) throw new Error('main cpu: a task failed');
      },
    },
    [CPU_EXECUTE]: {
      count: singles,
      run: async () => {
        for (let k = 0; k < singles; k++) {
          const run = await runtime.execute(one);
          if (run.done !== 1) throw new Error('main cpu: a task failed');
        }
      },
    },
  };
  const processSamples = new Map<string, number[]>();
  try {
    for (const c of Object.values(runs)) await c.run(); // warm
    const samples = await alternatingRounds(
      Object.keys(runs).map((name) => ({ name })),
      options.rounds,
      async ({ name }) => {
        const c = runs[name] as { count: number; run: () => Promise<void> };
        const main = mainThreadCpuUs();
        const all = processCpuUs();
        await c.run();
        const list = processSamples.get(name) ?? [];
        list.push((processCpuUs() - all) / c.count);
        processSamples.set(name, list);
        return (mainThreadCpuUs() - main) / c.count;
      },
    );
    const rows = Object.keys(runs).map((name) => ({
      name,
      mainUs: summarize(samples.get(name) as number[]),
      processUs: summarize(processSamples.get(name) as number[]),
    }));
    const markdown = table(
      [
        'tasks',
        mainThreadOnly ? 'main-thread CPU µs/task' : 'process CPU µs/task',
        'process CPU µs/task (workers too)',
      ],
      rows.map((r) => [r.name, cell(r.mainUs, 1), cell(r.processUs, 1)]),
      ['l', 'r', 'r'],
    );
    return {
      rows,
      markdown: `### Main-thread CPU per task: ${tasks.toLocaleString('en-US')} no-op tasks (${singles.toLocaleString('en-US')} for one-task executes), ${threads} threads, ${options.rounds} rounds\n\n${mainThreadOnly ? "The main thread's own CPU time (Linux `schedstat`)" : 'No per-thread CPU time on this platform: the whole process (`process.cpuUsage`)'}, median and min–max over rounds; contenders alternate.\n\n${markdown}`,
    };
  } finally {
    await Promise.all([pool.close(), runtime.close()]);
  }
}
