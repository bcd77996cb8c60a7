import { fileURLToPath } from 'node:url';
import { loadDagFile } from '../../src/cli/dag-file.js';
import type { TaskInput } from '../../src/dag/schema.js';
import { createRuntime, type DagInput, type Runtime } from '../../src/index.js';
import { alternate, type SpeedupRow } from '../lib/speedup-row.js';
import { summarize, time } from '../lib/stats.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/research/dag.yaml', import.meta.url));

/**
 * The example DAG with only its first `shards` index tasks (the rest of the
 * pipeline merges whatever shards it is given): the same agents and shape,
 * less work, for the quick modes.
 */
function firstShards(tasks: Record<string, unknown>, shards: number): DagInput {
  const shard = (id: string) => /^index-(\d+)$/.exec(id)?.[1];
  const dropped = new Set(Object.keys(tasks).filter((id) => Number(shard(id) ?? -1) >= shards));
  const kept = Object.entries(tasks).filter(([id]) => !dropped.has(id));
  if (kept.filter(([id]) => shard(id) !== undefined).length !== shards)
    throw new Error(`examples/research has fewer than ${shards} index tasks`);
  return Object.fromEntries(
    kept.map(([id, task]) => {
      const t = task as TaskInput;
      return [
        id,
        { ...t, ...(t.depends_on && { depends_on: t.depends_on.filter((d) => !dropped.has(d)) }) },
      ];
    }),
  );
}

/**
 * The CLI's example workload (examples/research) at each thread count: a
 * fresh runtime's first run (cold: threads start, agents and the tokenizer
 * load) and, right after, a second run on the same threads (warm), against
 * the same DAG inline on the main thread (`threads: 0`, warmed by one run
 * first). Each repeat runs every configuration once, in alternating order.
 * Warm is measured right after cold, not on a pool kept across repeats: the
 * example's memoryMb limit gives it a pool whose extra threads exit after
 * 1 s idle.
 */
export async function exampleSpeedup(options: {
  counts: number[];
  repeats: number;
  /** Index shards to keep; all of them when undefined. */
  shards?: number;
}): Promise<SpeedupRow[]> {
  const file = await loadDagFile(EXAMPLE);
  // The bundled example's tasks are a task map (the runtime validates them when it runs).
  const tasks = file.tasks as Record<string, unknown>;
  const all = Object.keys(tasks).filter((id) => id.startsWith('index-')).length;
  const shards = Math.min(options.shards ?? all, all);
  const dag = shards === all ? (tasks as DagInput) : firstShards(tasks, shards);
  const workload =
    shards === all ? 'examples/research' : `examples/research, ${shards} of ${all} shards`;
  const make = (threads: number) =>
    createRuntime({ threads, agents: file.agents, limits: file.defaults.limits ?? {}, retries: 0 });
  const run = async (runtime: Runtime) => {
    let result: { done: number; total: number } = { done: 0, total: 0 };
    const ms = await time(async () => {
      result = await runtime.execute(dag, { context: file.context });
    });
    if (result.done !== result.total)
      throw new Error(`example: ${result.total - result.done} tasks did not finish`);
    return ms;
  };
  const main: number[] = [];
  const cold = new Map<number, number[]>(options.counts.map((t) => [t, []]));
  const warm = new Map<number, number[]>(options.counts.map((t) => [t, []]));
  const inline = make(0);
  try {
    await run(inline); // the main thread loads and compiles the agents once, as warm threads have
    for (let r = 0; r < options.repeats; r++) {
      for (const threads of alternate([0, ...options.counts], r)) {
        if (threads === 0) {
          main.push(await run(inline));
          continue;
        }
        const runtime = make(threads);
        try {
          cold.get(threads)?.push(await run(runtime));
          warm.get(threads)?.push(await run(runtime));
        } finally {
          await runtime.close();
        }
      }
    }
  } finally {
    await inline.close();
  }
  const per = (a: number[], b: number[]) => summarize(a.map((x, r) => x / (b[r] as number)));
  const rows: SpeedupRow[] = [
    {
      workload,
      threads: 0,
      pool: 'none',
      ms: summarize(main),
      vsOneThread: null,
      vsMainThread: per(main, main),
    },
  ];
  for (const [pool, samples] of [
    ['cold', cold],
    ['warm', warm],
  ] as const) {
    const one = samples.get(1);
    for (const threads of options.counts) {
      const ms = samples.get(threads) as number[];
      rows.push({
        workload,
        threads,
        pool,
        ms: summarize(ms),
        vsOneThread: one === undefined ? null : per(one, ms),
        vsMainThread: per(main, ms),
      });
    }
  }
  return rows;
}
