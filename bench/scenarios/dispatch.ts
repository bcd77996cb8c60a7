import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { FixedThreadPool } from 'poolifier';
import Tinypool from 'tinypool';
import workerpool from 'workerpool';
import { createRuntime, type Runtime } from '../../src/index.js';
import { median, spread, table, time } from '../lib/stats.js';

const worker = (name: string) => new URL(`../workers/${name}.js`, import.meta.url);

interface Contender {
  name: string;
  /** Runs `tasks` no-op tasks, all submitted at once. */
  run(tasks: number): Promise<unknown>;
  close(): Promise<void>;
}

/** The runtime's default `inFlightPerThread`, and the row the dispatch target reads. */
const DEFAULT_WINDOW = 16;
export const DEFAULT_CONTENDER = `agentpool fanOut, window ${DEFAULT_WINDOW} (default)`;

function contenders(threads: number): Contender[] {
  const piscina = new Piscina({
    filename: worker('noop').href,
    minThreads: threads,
    maxThreads: threads,
  });
  const tinypool = new Tinypool({
    filename: worker('noop').href,
    minThreads: threads,
    maxThreads: threads,
  });
  const poolifier = new FixedThreadPool(threads, fileURLToPath(worker('poolifier-noop')), {
    errorHandler: console.error,
  });
  const wp = workerpool.pool(fileURLToPath(worker('workerpool-noop')), {
    minWorkers: threads,
    maxWorkers: threads,
    workerType: 'thread',
  });
  const agents = { noop: new URL('../agents/noop.js', import.meta.url) };
  const runtimes = [1, 4, DEFAULT_WINDOW].map((window) => ({
    window,
    runtime: createRuntime({ threads, retries: 0, inFlightPerThread: window, agents }),
  }));
  const many = (n: number, submit: () => Promise<unknown>) =>
    Promise.all(Array.from({ length: n }, submit));
  return [
    {
      name: 'piscina (raw)',
      run: (n) => many(n, () => piscina.run(0)),
      close: async () => {
        await piscina.close();
      },
    },
    ...runtimes.map(({ window, runtime }) => ({
      name: window === DEFAULT_WINDOW ? DEFAULT_CONTENDER : `agentpool fanOut, window ${window}`,
      run: (n: number) =>
        runtime.fanOut(
          'noop',
          Array.from({ length: n }, () => ''),
        ),
      close: async () => {
        await runtime.close();
      },
    })),
    ...[64, 256].map((batch) => ({
      name: `agentpool fanOut, batch ${batch}`,
      run: (n: number) =>
        (runtimes[0] as { runtime: Runtime }).runtime.fanOut(
          'noop',
          Array.from({ length: n }, () => ''),
          { batch },
        ),
      close: async () => {},
    })),
    {
      name: 'poolifier',
      run: (n) => many(n, () => poolifier.execute()),
      close: async () => {
        await poolifier.destroy();
      },
    },
    {
      name: 'tinypool',
      run: (n) => many(n, () => tinypool.run(0)),
      close: async () => {
        await tinypool.destroy();
      },
    },
    {
      name: 'workerpool',
      run: (n) => many(n, () => wp.exec('noop', [])),
      close: async () => {
        await wp.terminate();
      },
    },
  ];
}

/**
 * Tasks per second for tiny tasks submitted at once: agentpool (at several
 * in-flight windows) against raw piscina and the other Node pools, on the
 * same thread count, rounds alternating.
 */
export async function dispatchScenario(options: {
  quick: boolean;
  threads: number;
  tasks?: number;
  rounds?: number;
}): Promise<{ markdown: string; rates: Record<string, number> }> {
  const tasks = options.tasks ?? (options.quick ? 10_000 : 50_000);
  const rounds = options.rounds ?? (options.quick ? 3 : 5);
  const all = contenders(options.threads);
  for (const c of all) await c.run(2_000); // warm: threads up, code hot
  const samples = new Map<string, number[]>(all.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of r % 2 ? [...all].reverse() : all)
      samples.get(c.name)?.push(tasks / ((await time(() => c.run(tasks))) / 1000));
  }
  await Promise.all(all.map((c) => c.close()));
  const rates = Object.fromEntries([...samples].map(([name, list]) => [name, median(list)]));
  const base = rates['piscina (raw)'] as number;
  const markdown = table(
    ['pool', 'tasks/s (median)', 'range', 'vs raw piscina'],
    [...samples].map(([name, list]) => [
      name,
      Math.round(median(list)).toLocaleString('en-US'),
      spread(list, 0),
      (median(list) / base).toFixed(2),
    ]),
    ['l', 'r', 'r', 'r'],
  );
  return {
    rates,
    markdown: `### Dispatch: ${tasks.toLocaleString('en-US')} no-op tasks at once, ${options.threads} threads, median of ${rounds} alternating rounds\n\n${markdown}`,
  };
}
