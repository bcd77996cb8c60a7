import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime, type DagInput } from '../../src/index.js';
import type { Mode } from '../lib/modes.js';
import { alternatingRounds, ratioPerRound } from '../lib/rounds.js';
import { cell, type Summary, summarize, table, time } from '../lib/stats.js';

/** Sizes of the cache scenario per mode (kept here, beside what reads them). */
export function cacheSettings(mode: Mode): CacheSettings {
  if (mode === 'full')
    return { tasks: 10_000, taskMs: 5, rounds: 3, cachedTasks: 100_000, reruns: 3 };
  if (mode === 'quick')
    return { tasks: 2_000, taskMs: 5, rounds: 1, cachedTasks: 20_000, reruns: 2 };
  return { tasks: 100, taskMs: 1, rounds: 1, cachedTasks: 500, reruns: 1 };
}

export interface CacheSettings {
  /** Tasks of the all-miss comparison, each `taskMs` long. */
  tasks: number;
  taskMs: number;
  rounds: number;
  /** Tasks of the fully cached re-run. */
  cachedTasks: number;
  reruns: number;
}

export interface CacheRow {
  threads: number;
  tasks: number;
  /** Run time with the cache on (every task a miss, every result written) over off, per round. */
  missRatio: Summary;
  onMs: Summary;
  offMs: Summary;
  cachedTasks: number;
  /** Wall time of a fully cached re-run (fresh runtime: the store is opened, nothing runs). */
  rerunMs: Summary;
  /** Worker threads the cached re-run started (0 expected). */
  rerunThreads: number;
}

/**
 * Layers of `width` tasks, each depending on two tasks of the layer before
 * (so keys are made of dependency hashes, as in a real pipeline); each task
 * has a context of its own, so no two share a key.
 */
function layered(tasks: number, agent: string, prompt: (i: number) => string): DagInput {
  const width = 100;
  const dag: DagInput = {};
  for (let i = 0; i < tasks; i++) {
    const layer = Math.floor(i / width);
    const deps =
      layer === 0
        ? []
        : [`t${(layer - 1) * width + (i % width)}`, `t${(layer - 1) * width + ((i + 1) % width)}`];
    dag[`t${i}`] = { agent, prompt: prompt(i), depends_on: deps, context: { n: i } };
  }
  return dag;
}

/**
 * What the task cache costs a run that gains nothing from it (all misses:
 * each task's key computed, looked up, its output written ahead of its
 * `done`) against the same run without a cache, side by side per round;
 * and how long a fully cached re-run of a large DAG takes.
 */
export async function cacheScenario(
  options: CacheSettings & { threads: number },
): Promise<{ markdown: string; rows: CacheRow[] }> {
  const { threads, tasks, taskMs, rounds, cachedTasks, reruns } = options;
  const agents = {
    wait: new URL('../agents/wait.js', import.meta.url),
    noop: new URL('../agents/noop.js', import.meta.url),
  };
  const root = await mkdtemp(join(tmpdir(), 'agentpool-bench-cache-'));
  try {
    const dag = layered(tasks, 'wait', () => String(taskMs));
    let round = 0;
    const runOnce = async (cache: boolean) => {
      // A fresh store each time: every lookup misses.
      const dir = join(root, `miss-${round++}`);
      const runtime = createRuntime({ threads, agents, ...(cache && { cache: { dir } }) });
      try {
        await runtime.execute(
          layered(threads * 4, 'wait', () => '0'),
          { cache: false },
        ); // warm threads
        return await time(() => runtime.execute(dag));
      } finally {
        await runtime.close();
      }
    };
    const contenders = [{ name: 'cache on' }, { name: 'cache off' }];
    const samples = await alternatingRounds(contenders, rounds, (c) =>
      runOnce(c.name === 'cache on'),
    );

    const dir = join(root, 'cached');
    const big = layered(cachedTasks, 'noop', (i) => `p${i}`);
    const fill = createRuntime({ threads, agents, cache: { dir } });
    await fill.execute(big);
    await fill.close();
    const rerunMs: number[] = [];
    let rerunThreads = 0;
    for (let r = 0; r < reruns; r++) {
      const runtime = createRuntime({ threads, agents, cache: { dir } });
      const ms = await time(async () => {
        const result = await runtime.execute(big);
        if (result.fromCache !== cachedTasks)
          throw new Error(`cached re-run: ${result.fromCache} of ${cachedTasks} from the cache`);
      });
      rerunThreads = Math.max(rerunThreads, runtime.stats().liveThreads);
      await runtime.close();
      rerunMs.push(ms);
    }
    const row: CacheRow = {
      threads,
      tasks,
      missRatio: ratioPerRound(samples, 'cache on', 'cache off'),
      onMs: summarize(samples.get('cache on') as number[]),
      offMs: summarize(samples.get('cache off') as number[]),
      cachedTasks,
      rerunMs: summarize(rerunMs),
      rerunThreads,
    };
    const markdown = `### Task cache\n\n${table(
      ['run', 'tasks', 'threads', 'time (median)', 'range', 'cache on ÷ off'],
      [
        [
          `all misses, ${taskMs} ms tasks, cache on`,
          tasks.toLocaleString('en-US'),
          threads,
          `${Math.round(row.onMs.median)} ms`,
          `${Math.round(row.onMs.min)}–${Math.round(row.onMs.max)} ms`,
          cell(row.missRatio, 3),
        ],
        [
          `same, cache off`,
          tasks.toLocaleString('en-US'),
          threads,
          `${Math.round(row.offMs.median)} ms`,
          `${Math.round(row.offMs.min)}–${Math.round(row.offMs.max)} ms`,
          '',
        ],
        [
          'fully cached re-run (fresh runtime)',
          cachedTasks.toLocaleString('en-US'),
          `${rerunThreads} started`,
          `${Math.round(row.rerunMs.median)} ms`,
          `${Math.round(row.rerunMs.min)}–${Math.round(row.rerunMs.max)} ms`,
          '',
        ],
      ],
    )}`;
    return { markdown, rows: [row] };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
