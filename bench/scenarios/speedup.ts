import type { Settings } from '../lib/modes.js';
import type { SpeedupRow } from '../lib/speedup-row.js';
import { cell, table } from '../lib/stats.js';
import { exampleSpeedup } from './example-speedup.js';
import { kernelSpeedup } from './kernel-speedup.js';

export type { SpeedupRow };

/**
 * CPU-bound speedup with threads: a pure kernel and the CLI's example
 * workload at each thread count, against one thread and against the main
 * thread running the same work with no pool.
 */
export async function speedupScenario(
  options: Settings['speedup'] & { cores: number },
): Promise<{ rows: SpeedupRow[]; markdown: string }> {
  const { counts, repeats } = options;
  const rows = [
    ...(await kernelSpeedup({ counts, repeats, ...options.kernel })),
    ...(await exampleSpeedup({
      counts: options.exampleCounts,
      repeats: options.exampleRepeats,
      ...(options.shards !== undefined && { shards: options.shards }),
    })),
  ];
  const markdown = table(
    ['workload', 'threads', 'pool', 'ms per run', 'speedup vs 1 thread', 'vs main thread, no pool'],
    rows.map((r) => [
      r.workload,
      r.threads === 0 ? 'main thread' : r.threads,
      r.pool === 'none' ? '–' : r.pool,
      cell(r.ms, 0),
      r.vsOneThread ? cell(r.vsOneThread) : '–',
      cell(r.vsMainThread),
    ]),
    ['l', 'r', 'l', 'r', 'r', 'r'],
  );
  return {
    rows,
    markdown: `### Speedup on CPU-bound work (${options.cores} cores; ${repeats} repeats of the kernel, ${options.exampleRepeats} of the example)\n\nMedian (min–max) over repeats; each repeat runs every configuration once, one after another, in alternating order, and speedups are taken within a repeat. "cold" is a fresh runtime's first run, "warm" a second run right after on the same threads; the kernel's pools are warmed before the first repeat.\n\n${markdown}`,
  };
}
