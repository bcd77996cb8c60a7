/**
 * Planning cost at scale: validate a DAG, build its index form and rank every
 * task by critical path (what `execute` does before the first dispatch).
 * Prints µs per task and main-thread bytes per task for 1k to 100k tasks.
 * `--quick` stops at 10k. The full harness (issue: benchmarks) grows from here.
 */
import { Bench } from 'tinybench';
import type { DagInput } from '../src/dag/schema.js';
import { compileDag } from '../src/dag/validate.js';
import { estimateCosts, upwardRanks } from '../src/planner/rank.js';

/** Seeded random DAG: each task depends on up to 3 of the 50 tasks before it. */
function randomDag(size: number, seed = 1): DagInput {
  let state = seed;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const dag: DagInput = {};
  for (let i = 0; i < size; i++) {
    const deps = new Set<string>();
    const count = i === 0 ? 0 : Math.floor(random() * 4);
    for (let k = 0; k < count; k++) deps.add(`t${Math.max(0, i - 1 - Math.floor(random() * 50))}`);
    dag[`t${i}`] = { agent: 'worker', prompt: `task ${i}`, depends_on: [...deps] };
  }
  return dag;
}

const agents = new Set(['worker']);
function plan(dag: DagInput) {
  const graph = compileDag(dag, agents);
  return {
    graph,
    rank: upwardRanks(
      graph,
      estimateCosts(graph, () => undefined),
    ),
  };
}

const quick = process.argv.includes('--quick');
const sizes = quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
const bench = new Bench({ time: quick ? 300 : 1_000, iterations: 3 });
const dags = new Map(sizes.map((size) => [size, randomDag(size)]));
for (const [size, dag] of dags)
  bench.add(`plan ${size.toLocaleString('en')} tasks`, () => void plan(dag));
await bench.run();

console.log('| tasks | µs per task (mean) | ± rme | bytes per task (retained) |');
console.log('| ---: | ---: | ---: | ---: |');
for (const task of bench.tasks) {
  const size = Number(task.name.replace(/\D/g, ''));
  const result = task.result;
  if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}`);
  // Retained memory of the plan itself: measured once, after a GC if exposed.
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const kept = plan(dags.get(size) as DagInput);
  globalThis.gc?.();
  const bytes = (process.memoryUsage().heapUsed - before) / size;
  const us = (result.latency.mean * 1000) / size;
  console.log(
    `| ${size.toLocaleString('en')} | ${us.toFixed(2)} | ${result.latency.rme.toFixed(1)}% | ${globalThis.gc ? bytes.toFixed(0) : 'run with --expose-gc'} |`,
  );
  if (kept.rank.length !== size) throw new Error('plan lost tasks');
}
