import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadDagFile } from '../../src/cli/dag-file.js';
import { createRuntime, type DagInput } from '../../src/index.js';
import { countPrimes } from '../agents/kernel.js';
import { median, table, time } from '../lib/stats.js';

export interface SpeedupRow {
  workload: string;
  threads: number;
  ms: number;
  vsOneThread: number;
  vsMainThread: number;
}

const EXAMPLE = fileURLToPath(new URL('../../../examples/research/dag.yaml', import.meta.url));

/**
 * CPU-bound speedup with threads: a pure kernel fanned out, and the CLI's
 * example workload, at 1..cores threads, against the same work on the main
 * thread with no pool (the kernel) or on one thread (both).
 */
export async function speedupScenario(options: {
  quick: boolean;
  threadCounts?: number[];
}): Promise<{ rows: SpeedupRow[]; markdown: string }> {
  const cores = availableParallelism();
  const counts =
    options.threadCounts ??
    Array.from(new Set([1, 2, 4, 8, 16].filter((t) => t <= cores).concat(cores))).sort(
      (a, b) => a - b,
    );
  const repeats = options.quick ? 1 : 3;
  const limit = options.quick ? 150_000 : 300_000;
  const tasks = Math.max(16, cores * 8);
  const rows: SpeedupRow[] = [];

  countPrimes(limit); // warm the main thread's JIT too, as the pools are warmed below
  // One repeat after another: timed side by side, each would also count the others' loops.
  const mainSamples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    mainSamples.push(
      await time(async () => {
        for (let i = 0; i < tasks; i++) countPrimes(limit);
      }),
    );
  }
  const mainMs = median(mainSamples);
  const kernel: Record<number, number> = {};
  for (const threads of counts) {
    const runtime = createRuntime({
      threads,
      retries: 0,
      agents: { kernel: new URL('../agents/kernel.js', import.meta.url) },
    });
    await runtime.fanOut('kernel', ['1000']); // threads up
    const samples: number[] = [];
    for (let r = 0; r < repeats; r++)
      samples.push(
        await time(() =>
          runtime.fanOut(
            'kernel',
            Array.from({ length: tasks }, () => String(limit)),
          ),
        ),
      );
    await runtime.close();
    kernel[threads] = median(samples);
  }
  for (const threads of counts) {
    const ms = kernel[threads] as number;
    rows.push({
      workload: `prime kernel, ${tasks} tasks`,
      threads,
      ms,
      vsOneThread: (kernel[1] as number) / ms,
      vsMainThread: mainMs / ms,
    });
  }

  const file = await loadDagFile(EXAMPLE);
  const example: Record<number, number> = {};
  for (const threads of counts) {
    const samples: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const runtime = createRuntime({
        threads,
        agents: file.agents,
        limits: file.defaults.limits ?? {},
        retries: 0,
      });
      samples.push(
        await time(async () => {
          const run = await runtime.execute(file.tasks as DagInput, { context: file.context });
          if (run.done !== run.total)
            throw new Error(`example: ${run.total - run.done} tasks did not finish`);
        }),
      );
      await runtime.close();
    }
    example[threads] = median(samples);
  }
  for (const threads of counts) {
    const ms = example[threads] as number;
    rows.push({
      workload: 'examples/research (cold pool each run)',
      threads,
      ms,
      vsOneThread: (example[1] as number) / ms,
      vsMainThread: Number.NaN,
    });
  }
  const markdown = table(
    ['workload', 'threads', 'ms (median)', 'speedup vs 1 thread', 'vs main thread, no pool'],
    rows.map((r) => [
      r.workload,
      r.threads,
      Math.round(r.ms),
      r.vsOneThread.toFixed(2),
      Number.isNaN(r.vsMainThread) ? '–' : r.vsMainThread.toFixed(2),
    ]),
    ['l', 'r', 'r', 'r', 'r'],
  );
  return {
    rows,
    markdown: `### Speedup on CPU-bound work (${cores} cores; main thread alone: ${Math.round(mainMs)} ms for the kernel)\n\n${markdown}`,
  };
}
