import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { FixedThreadPool } from 'poolifier';
import Tinypool from 'tinypool';
import workerpool from 'workerpool';
import { createRuntime, type DagInput, type Runtime } from '../../src/index.js';
import { resolveOptions } from '../../src/options.js';

const worker = (name: string) => new URL(`../workers/${name}.js`, import.meta.url);

/** One way of running no-op tasks, all submitted at once. */
export interface Contender {
  name: string;
  /** Runs `tasks` no-op tasks and resolves when all are done. */
  run(tasks: number): Promise<unknown>;
  close(): Promise<void>;
}

/** The runtime's default `inFlightPerThread`, read from its options so the rows follow it. */
export const DEFAULT_WINDOW = resolveOptions({}).inFlightPerThread;
/** The two raw piscina baselines: its own default, and agentpool's window (like for like). */
export const PISCINA = 'piscina (raw), 1 in flight per thread';
export const PISCINA_WINDOW = `piscina (raw), ${DEFAULT_WINDOW} in flight per thread`;
/** The rows the single-task dispatch targets read. */
export const DEFAULT_FANOUT = `agentpool fanOut, window ${DEFAULT_WINDOW} (default)`;
export const CHAIN_FREE_DAG = `agentpool execute, chain-free DAG, window ${DEFAULT_WINDOW} (default)`;
export const BATCHES = [64, 256] as const;
export const batchName = (batch: number) => `agentpool fanOut, batch ${batch}`;
export const POOLIFIER = 'poolifier';

/** A DAG of `n` independent no-op tasks, built once per size: what a caller hands `execute`. */
function chainFree(n: number, cache: Map<number, DagInput>): DagInput {
  let dag = cache.get(n);
  if (dag === undefined) {
    dag = {};
    for (let i = 0; i < n; i++) dag[`t${i}`] = { agent: 'noop', prompt: '' };
    cache.set(n, dag);
  }
  return dag;
}

function piscina(name: string, threads: number, perThread: number): Contender {
  const pool = new Piscina({
    filename: worker('noop').href,
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: perThread,
  });
  return {
    name,
    run: (n) => Promise.all(Array.from({ length: n }, () => pool.run(0))),
    close: () => pool.close(),
  };
}

/**
 * Every contender on `threads` threads: raw piscina twice (one task in
 * flight per thread, its default, and agentpool's window), agentpool at
 * in-flight windows 1, 4 and the default through `fanOut`, the default
 * through `execute` on a chain-free DAG, batched `fanOut`, and the other
 * Node pools at their defaults.
 */
/** Waits for `closing`, or `ms` at most (a timer holds the process until then). */
function settledWithin(closing: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([closing.then(() => {}), late]).finally(() => clearTimeout(timer));
}

export function dispatchContenders(threads: number): Contender[] {
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
  const windows = [...new Set([1, 4, DEFAULT_WINDOW])];
  const runtimes = new Map<number, Runtime>(
    windows.map((window) => [
      window,
      createRuntime({ threads, retries: 0, inFlightPerThread: window, agents }),
    ]),
  );
  const byDefault = runtimes.get(DEFAULT_WINDOW) as Runtime;
  const blank = (n: number) => Array.from({ length: n }, () => '');
  const dags = new Map<number, DagInput>();
  // A failed task would make a row look fast: every agentpool row checks its results.
  const checked = async (run: Promise<{ done: number; total: number }>) => {
    const result = await run;
    if (result.done !== result.total)
      throw new Error(`dispatch: ${result.total - result.done} tasks did not finish`);
  };
  const allDone = async (run: Promise<{ status: string }[]>) => {
    const results = await run;
    const failed = results.filter((r) => r.status !== 'done').length;
    if (failed > 0) throw new Error(`dispatch: ${failed} tasks did not finish`);
  };
  return [
    piscina(PISCINA, threads, 1),
    piscina(PISCINA_WINDOW, threads, DEFAULT_WINDOW),
    ...windows.map((window) => ({
      name: window === DEFAULT_WINDOW ? DEFAULT_FANOUT : `agentpool fanOut, window ${window}`,
      run: (n: number) => allDone((runtimes.get(window) as Runtime).fanOut('noop', blank(n))),
      close: () => (runtimes.get(window) as Runtime).close(),
    })),
    {
      name: CHAIN_FREE_DAG,
      run: (n) => checked(byDefault.execute(chainFree(n, dags))),
      close: async () => {},
    },
    ...BATCHES.map((batch) => ({
      name: batchName(batch),
      run: (n: number) => allDone(byDefault.fanOut('noop', blank(n), { batch })),
      close: async () => {},
    })),
    {
      name: POOLIFIER,
      run: (n) => Promise.all(Array.from({ length: n }, () => poolifier.execute())),
      // poolifier's destroy now and then never settles (seen here in about
      // one run in ten: its threads exit, its promise does not); the
      // harness gives it a few seconds, then goes on.
      close: () => settledWithin(poolifier.destroy(), 5_000),
    },
    {
      name: 'tinypool',
      run: (n) => Promise.all(Array.from({ length: n }, () => tinypool.run(0))),
      close: () => tinypool.destroy(),
    },
    {
      name: 'workerpool',
      run: (n) => Promise.all(Array.from({ length: n }, () => wp.exec('noop', []))),
      close: async () => {
        await wp.terminate();
      },
    },
  ];
}
