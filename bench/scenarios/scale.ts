import type { DagInput } from '../../src/dag/schema.js';
import { compileDag } from '../../src/dag/validate.js';
import { createRuntime, type Runtime } from '../../src/index.js';
import { estimateCosts, upwardRanks } from '../../src/planner/rank.js';
import { canMeasureHeap, retainedBytes } from '../lib/heap.js';
import { seeded } from '../lib/random-dag.js';
import { cell, type Summary, summarize, table } from '../lib/stats.js';
import { latencies } from '../lib/tiny.js';

/** A seeded DAG where each task depends on up to 3 of the 50 tasks before it. */
function wideDag(size: number): DagInput {
  const random = seeded(size);
  const dag: DagInput = {};
  for (let i = 0; i < size; i++) {
    const deps = new Set<string>();
    const count = i === 0 ? 0 : Math.floor(random() * 4);
    for (let k = 0; k < count; k++) deps.add(`t${Math.max(0, i - 1 - Math.floor(random() * 50))}`);
    dag[`t${i}`] = { agent: 'noop', prompt: '', depends_on: [...deps] };
  }
  return dag;
}

export interface ScaleRow {
  tasks: number;
  /** validate + plan, µs per task, one per tinybench sample. */
  plan: Summary;
  planBytesPerTask: number | null;
  /** A whole run inline (`threads: 0`), µs per task, one per repeat. */
  inline: Summary | null;
  /** The same run through the worker pool. */
  pool: Summary | null;
  /** What a caller holds per task while it keeps an inline run's result. */
  runBytesPerTask: number | null;
}

// Enough tasks per measurement that timer grain and heap noise are small
// next to the figure: small DAGs are measured many times over.
const planIterations = (size: number) => Math.min(20, Math.max(2, Math.ceil(100_000 / size)));
const planWarmup = (size: number) => Math.min(5, Math.max(1, Math.ceil(50_000 / size)));
const heapCopies = (size: number) => Math.max(1, Math.ceil(100_000 / size));

async function timedRuns(runtime: Runtime, dag: DagInput, size: number, repeats: number) {
  const us: number[] = [];
  const results = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    const result = await runtime.execute(dag);
    us.push(((performance.now() - start) * 1000) / size);
    if (result.done !== size) throw new Error(`scale: ${size - result.done} tasks did not finish`);
    results.push(result);
  }
  return { us: summarize(us), results };
}

/** Inline runs, their results held until the heap is measured: what a caller keeps per task. */
async function inlineRuns(runtime: Runtime, dag: DagInput, size: number, repeats: number) {
  // An inline runtime keeps its last run's result reachable until the next
  // run starts (measured: ~290 B/task of a dropped 10k-task result); a
  // one-task run first, so the warm-up's result is not freed mid-measurement.
  await runtime.execute(wideDag(1));
  const held = await retainedBytes(size * repeats, 1, () => timedRuns(runtime, dag, size, repeats));
  return { inline: (held.kept[0] as { us: Summary }).us, runBytesPerTask: held.bytesPerItem };
}

/**
 * How cost grows with DAG size: validate + plan (index form and
 * critical-path ranks, timed with tinybench), and whole runs of no-op tasks
 * both inline (`threads: 0`: the planner alone) and through the worker pool
 * (validate, plan and dispatch), in µs and retained main-thread bytes per
 * task.
 */
export async function scaleScenario(options: {
  sizes: number[];
  /** Largest DAG also run whole (inline and through the pool). */
  runLimit: number;
  /** Each run size is repeated until about this many tasks have run (1–20 repeats). */
  runTasks: number;
  threads: number;
  /** tinybench measuring time per planned size, ms. */
  planTimeMs: number;
}): Promise<{ rows: ScaleRow[]; markdown: string }> {
  const agents = { noop: new URL('../agents/noop.js', import.meta.url) };
  const inline = createRuntime({ threads: 0, retries: 0, agents });
  const pool = createRuntime({ threads: options.threads, retries: 0, agents });
  const names = new Set(Object.keys(agents));
  const rows: ScaleRow[] = [];
  try {
    for (const size of options.sizes) {
      const input = wideDag(size);
      const plan = () => {
        const graph = compileDag(input, names);
        const rank = upwardRanks(
          graph,
          estimateCosts(graph, () => undefined),
        );
        if (rank.length !== size) throw new Error('plan lost tasks');
        return { graph, rank }; // what a run holds on to
      };
      const timing = await latencies(
        { plan },
        {
          timeMs: options.planTimeMs,
          iterations: planIterations(size),
          warmupIterations: planWarmup(size),
        },
        false,
      );
      const planMs = timing.get('plan') as Summary;
      const planBytes = (await retainedBytes(size, heapCopies(size), plan)).bytesPerItem;
      const row: ScaleRow = {
        tasks: size,
        plan: summarize(planMs.samples.map((ms) => (ms * 1000) / size)),
        planBytesPerTask: planBytes,
        inline: null,
        pool: null,
        runBytesPerTask: null,
      };
      if (size <= options.runLimit) {
        const repeats = Math.min(20, Math.max(1, Math.ceil(options.runTasks / size)));
        // Each warmed first: the JIT, the agent on every thread, the pool's threads up.
        const warm = wideDag(Math.min(size, 2_000));
        await inline.execute(warm);
        // Inline first: what pool runs leave behind is let go over the next
        // second or so (measured: ~20 B/task), under a bytes measurement.
        Object.assign(row, await inlineRuns(inline, input, size, repeats));
        await pool.execute(warm);
        row.pool = (await timedRuns(pool, input, size, repeats)).us;
      }
      rows.push(row);
    }
  } finally {
    await Promise.all([inline.close(), pool.close()]);
  }
  const bytes = (n: number | null) =>
    n === null ? (canMeasureHeap ? 'noise' : '–') : n.toFixed(0);
  const markdown = table(
    [
      'tasks',
      'validate + plan, µs/task',
      'plan bytes/task',
      'inline run, µs/task',
      `pool run (${options.threads} threads), µs/task`,
      'run result bytes/task',
    ],
    rows.map((r) => [
      r.tasks.toLocaleString('en-US'),
      cell(r.plan),
      bytes(r.planBytesPerTask),
      r.inline ? cell(r.inline) : '–',
      r.pool ? cell(r.pool) : '–',
      r.inline ? bytes(r.runBytesPerTask) : '–',
    ]),
  );
  return {
    rows,
    markdown: `### Scale: cost per task as DAGs grow\n\nMedian (min–max). Planning is timed with tinybench (${options.planTimeMs} ms or at least 2–20 calls per size after 1–5 warm-up calls); runs are repeated until at least ${options.runTasks.toLocaleString('en-US')} tasks have run (1–20 repeats) after a warm-up run. Bytes are retained main-thread heap per task, measured over at least 100,000 tasks' worth of plans${canMeasureHeap ? '' : ' (run node with --expose-gc for the bytes columns)'}; "noise" where the heap measured smaller after than before.\n\n${markdown}`,
  };
}
