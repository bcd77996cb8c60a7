import { Bench } from 'tinybench';
import { type Summary, summarize } from './stats.js';

/** How long tinybench measures each task. */
export interface TinyBudget {
  /** Measuring time per task, ms (tinybench goes on until this and `iterations` are both met). */
  timeMs: number;
  /** Fewest measured calls per task. */
  iterations: number;
  /** Unmeasured calls first, for the JIT and the heap to settle. */
  warmupIterations: number;
}

/**
 * Runs `tasks` one after another in one tinybench run (sequential, so they
 * never compete) and returns each one's latency samples, in ms. `async`
 * is given, not detected: detection calls each task once more, which for a
 * 1M-task plan is seconds. Throws if a task fails: a failed call would
 * otherwise read as a fast one.
 */
export async function latencies(
  tasks: Record<string, () => unknown>,
  budget: TinyBudget,
  async: boolean,
): Promise<Map<string, Summary>> {
  const bench = new Bench({
    time: budget.timeMs,
    iterations: budget.iterations,
    warmup: budget.warmupIterations > 0,
    warmupTime: 0,
    warmupIterations: budget.warmupIterations,
    retainSamples: true,
    throws: true,
  });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn, { async });
  await bench.run();
  const out = new Map<string, Summary>();
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed' || result.latency.samples === undefined)
      throw new Error(`tinybench: ${task.name} ${result.state}`);
    out.set(task.name, summarize([...result.latency.samples]));
  }
  return out;
}
