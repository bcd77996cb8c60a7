import type { DagInput } from '../../src/dag/schema.js';
import { compileDag } from '../../src/dag/validate.js';
import { createRuntime } from '../../src/index.js';
import { estimateCosts, upwardRanks } from '../../src/planner/rank.js';
import { seeded } from '../lib/random-dag.js';
import { median, table, time } from '../lib/stats.js';

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

const gc = (globalThis as { gc?: () => void }).gc;
function heapUsed(): number {
  gc?.();
  return process.memoryUsage().heapUsed;
}

export interface ScaleRow {
  tasks: number;
  planUsPerTask: number;
  planBytesPerTask: number | null;
  runUsPerTask: number | null;
  runBytesPerTask: number | null;
}

/**
 * How cost grows with DAG size: validate + plan (index form and critical-path
 * ranks), and a whole inline run (`threads: 0`, no-op tasks, so the planner
 * is all that is measured), in µs and retained main-thread bytes per task.
 */
export async function scaleScenario(options: {
  quick: boolean;
}): Promise<{ rows: ScaleRow[]; markdown: string }> {
  const planSizes = options.quick ? [1_000, 10_000, 100_000] : [1_000, 10_000, 100_000, 1_000_000];
  const runLimit = options.quick ? 10_000 : 100_000;
  const agents = new Set(['noop']);
  const runtime = createRuntime({
    threads: 0,
    retries: 0,
    agents: { noop: new URL('../agents/noop.js', import.meta.url) },
  });
  const rows: ScaleRow[] = [];
  for (const size of planSizes) {
    let dag: DagInput | undefined = wideDag(size);
    const input = dag;
    const plan = () => {
      const graph = compileDag(input, agents);
      return {
        graph,
        rank: upwardRanks(
          graph,
          estimateCosts(graph, () => undefined),
        ),
      };
    };
    plan(); // warm
    const repeats = size >= 1_000_000 ? 1 : 3;
    const samples: number[] = [];
    for (let r = 0; r < repeats; r++) samples.push(await time(async () => plan()));
    const before = heapUsed();
    const kept = plan();
    const planBytes = gc ? (heapUsed() - before) / size : null;
    if (kept.rank.length !== size) throw new Error('plan lost tasks');
    let runUs: number | null = null;
    let runBytes: number | null = null;
    if (size <= runLimit) {
      await runtime.execute(wideDag(100));
      const beforeRun = heapUsed();
      const start = performance.now();
      const result = await runtime.execute(input);
      runUs = ((performance.now() - start) * 1000) / size;
      // Measured while the result is still held: what a caller keeps per task.
      runBytes = gc ? (heapUsed() - beforeRun) / size : null;
      if (result.done !== size)
        throw new Error(`scale: ${size - result.done} tasks did not finish`);
    }
    dag = undefined;
    rows.push({
      tasks: size,
      planUsPerTask: (median(samples) * 1000) / size,
      planBytesPerTask: planBytes,
      runUsPerTask: runUs,
      runBytesPerTask: runBytes,
    });
  }
  await runtime.close();
  const fmt = (n: number | null, digits = 2) => (n === null ? '–' : n.toFixed(digits));
  const markdown = table(
    [
      'tasks',
      'validate + plan, µs/task',
      'plan bytes/task',
      'whole inline run, µs/task',
      'run result bytes/task',
    ],
    rows.map((r) => [
      r.tasks.toLocaleString('en-US'),
      fmt(r.planUsPerTask),
      fmt(r.planBytesPerTask, 0),
      fmt(r.runUsPerTask),
      fmt(r.runBytesPerTask, 0),
    ]),
  );
  return {
    rows,
    markdown: `### Scale: cost per task as DAGs grow${gc ? '' : ' (run node with --expose-gc for the bytes columns)'}\n\n${markdown}`,
  };
}
