import { createRuntime, type Runtime } from '../../src/index.js';
import { countPrimes } from '../agents/kernel.js';
import { alternate, type SpeedupRow } from '../lib/speedup-row.js';
import { summarize, time } from '../lib/stats.js';

/**
 * A pure CPU kernel (`tasks` prime counts below `limit`) fanned out at each
 * thread count, against the same loop on the main thread with no pool. Every
 * pool is started and warmed first; then each repeat times the main thread
 * and every thread count once, one after another (never side by side: each
 * would count the others' work), in alternating order.
 */
export async function kernelSpeedup(options: {
  counts: number[];
  repeats: number;
  limit: number;
  tasks: number;
}): Promise<SpeedupRow[]> {
  const { counts, repeats, limit, tasks } = options;
  const workload = `prime kernel, ${tasks} tasks`;
  const prompts = Array.from({ length: tasks }, () => String(limit));
  const runtimes = new Map<number, Runtime>(
    counts.map((threads) => [
      threads,
      createRuntime({
        threads,
        retries: 0,
        agents: { kernel: new URL('../agents/kernel.js', import.meta.url) },
      }),
    ]),
  );
  const samples = new Map<number, number[]>([0, ...counts].map((t) => [t, []]));
  try {
    countPrimes(limit); // the main thread's JIT, as the pools are warmed next
    for (const [threads, runtime] of runtimes)
      await runtime.fanOut(
        'kernel',
        Array.from({ length: threads * 2 }, () => String(Math.ceil(limit / 10))),
      );
    for (let r = 0; r < repeats; r++) {
      for (const threads of alternate([0, ...counts], r)) {
        const runtime = runtimes.get(threads);
        const ms = await time(async () => {
          if (runtime === undefined) {
            for (let i = 0; i < tasks; i++) countPrimes(limit);
            return;
          }
          const failed = (await runtime.fanOut('kernel', prompts)).filter(
            (x) => x.status !== 'done',
          ).length;
          if (failed > 0) throw new Error(`kernel: ${failed} tasks did not finish`);
        });
        samples.get(threads)?.push(ms);
      }
    }
  } finally {
    await Promise.all([...runtimes.values()].map((runtime) => runtime.close()));
  }
  const main = samples.get(0) as number[];
  const one = samples.get(1);
  const per = (a: number[], b: number[]) => summarize(a.map((x, r) => x / (b[r] as number)));
  return [0, ...counts].map((threads) => {
    const ms = samples.get(threads) as number[];
    return {
      workload,
      threads,
      pool: threads === 0 ? 'none' : 'warm',
      ms: summarize(ms),
      vsOneThread: threads === 0 || one === undefined ? null : per(one, ms),
      vsMainThread: per(main, ms),
    };
  });
}
