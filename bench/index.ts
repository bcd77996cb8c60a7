/**
 * `npm run bench` (full), `npm run bench -- --quick` (about a minute), and
 * `--smoke` (seconds; what the test suite runs). Prints a markdown report
 * and writes it, with the raw numbers and a chart, to bench/results/ (or
 * `--out-dir DIR`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { lineChart } from './lib/chart.js';
import { DEFAULT_FANOUT, DEFAULT_WINDOW } from './lib/dispatch-contenders.js';
import { cell } from './lib/stats.js';
import { channelScenario } from './scenarios/channel.js';
import { dispatchScenario } from './scenarios/dispatch.js';
import { makespanScenario, SCHEDULERS } from './scenarios/makespan.js';
import { roundTripScenario } from './scenarios/round-trip.js';
import { scaleScenario } from './scenarios/scale.js';
import { speedupScenario } from './scenarios/speedup.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const quick = smoke || args.includes('--quick');
const outIndex = args.indexOf('--out-dir');
const outDir =
  outIndex >= 0
    ? (args[outIndex + 1] as string)
    : fileURLToPath(new URL('../../bench/results/', import.meta.url));
const cores = availableParallelism();
const machine = {
  cpu: cpus()[0]?.model.trim() ?? 'unknown',
  cores,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
};
const mode = smoke ? 'smoke' : quick ? 'quick' : 'full';
const log = (text: string) => process.stdout.write(`${text}\n\n`);
log(
  `# agentpool benchmarks (${mode})\n\n${machine.cpu}, ${cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}`,
);

const threadCounts = smoke ? [1, 4] : [1, 2, 4, 8, 16];
const makespan = await makespanScenario({
  quick,
  threads: threadCounts,
  ...(smoke && { tasks: 60, dags: 1, minMs: 1, maxMs: 4 }),
});
log(makespan.markdown);
const dispatch = await dispatchScenario({
  threads: cores,
  tasks: smoke ? 1_000 : quick ? 10_000 : 50_000,
  rounds: smoke ? 2 : quick ? 3 : 5,
});
log(dispatch.markdown);
const roundTrip = await roundTripScenario({
  threads: cores,
  rounds: smoke ? 2 : quick ? 3 : 5,
  budget: smoke
    ? { timeMs: 50, iterations: 30, warmupIterations: 10 }
    : quick
      ? { timeMs: 150, iterations: 100, warmupIterations: 20 }
      : { timeMs: 500, iterations: 200, warmupIterations: 50 },
});
log(roundTrip.markdown);
const channel = await channelScenario({
  threads: cores,
  tasks: smoke ? 300 : quick ? 1_000 : 10_000,
  rounds: smoke ? 2 : quick ? 3 : 5,
});
log(channel.markdown);
// Speedup before scale: its main-thread baseline must not inherit the heap a 1M-task plan leaves.
const speedupCounts = [...new Set([1, 2, 4, 8, 16].filter((t) => t <= cores).concat(cores))].sort(
  (a, b) => a - b,
);
const speedup = smoke
  ? undefined
  : await speedupScenario({
      cores,
      counts: quick ? [...new Set([1, cores])] : speedupCounts,
      repeats: 3,
      exampleCounts: quick ? [...new Set([1, cores])] : speedupCounts,
      exampleRepeats: quick ? 2 : 3,
      kernel: { limit: quick ? 150_000 : 300_000, tasks: Math.max(16, cores * 8) },
      ...(quick && { shards: Math.min(8, Math.max(2, cores)) }),
    });
if (speedup) log(speedup.markdown);
const scale = smoke
  ? undefined
  : await scaleScenario({
      threads: cores,
      sizes: quick ? [1_000, 10_000, 100_000] : [1_000, 10_000, 100_000, 1_000_000],
      runLimit: quick ? 10_000 : 100_000,
      runTasks: quick ? 5_000 : 20_000,
      planTimeMs: quick ? 100 : 1_000,
    });
if (scale) log(scale.markdown);

// Targets, checked against this run's own numbers.
const agentpoolRatios = makespan.rows.filter((r) => r.scheduler === 'agentpool (cost hints)');
const worstMakespan = Math.max(...agentpoolRatios.map((r) => r.median));
const fanOut = dispatch.rows.find((r) => r.name === DEFAULT_FANOUT);
const kernelAtCores = speedup?.rows.find(
  (r) => r.workload.startsWith('prime') && r.threads === cores,
)?.vsOneThread;
const plan100k = scale?.rows.find((r) => r.tasks === 100_000)?.plan.median;
const targets = [
  [
    'makespan / lower bound ≤ 1.05 at every thread count (agentpool, cost hints)',
    worstMakespan.toFixed(3),
    worstMakespan <= 1.05,
  ],
  ...(fanOut
    ? [
        [
          'dispatch ≥ 0.9× raw piscina, 1 in flight per thread (single tasks, per-round ratio)',
          cell(fanOut.vsPiscina),
          fanOut.vsPiscina.median >= 0.9,
        ],
        [
          `dispatch ≥ 0.9× raw piscina, ${DEFAULT_WINDOW} in flight per thread (like for like)`,
          cell(fanOut.vsPiscinaWindow),
          fanOut.vsPiscinaWindow.median >= 0.9,
        ],
      ]
    : []),
  ...(kernelAtCores
    ? [
        [
          `speedup on CPU-bound work ≥ 0.9 × cores (${cores})`,
          cell(kernelAtCores),
          kernelAtCores.median >= 0.9 * cores,
        ],
      ]
    : []),
  ...(plan100k !== undefined
    ? [['planning < 5 µs per task at 100k tasks', plan100k.toFixed(2), plan100k < 5]]
    : []),
] as [string, string, boolean][];
log(
  `### Targets\n\n| target | measured | met |\n| --- | ---: | :---: |\n${targets.map(([t, m, ok]) => `| ${t} | ${m} | ${ok ? 'yes' : 'no'} |`).join('\n')}`,
);

const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const chart = lineChart({
  title: `Makespan / lower bound vs threads (${machine.cpu}, ${cores} cores)`,
  xLabel: 'threads',
  yLabel: 'makespan / lower bound (lower is better)',
  xs: threadCounts,
  series: SCHEDULERS.map((name) => ({
    name,
    ys: threadCounts.map(
      (t) =>
        makespan.rows.find((r) => r.threads === t && r.scheduler === name)?.median ?? Number.NaN,
    ),
  })),
});
await mkdir(outDir, { recursive: true });
const report = [makespan, dispatch, roundTrip, channel, scale, speedup]
  .filter((s) => s !== undefined)
  .map((s) => s.markdown);
await writeFile(
  `${outDir}/${stamp}-${mode}.json`,
  `${JSON.stringify({ mode, machine, makespan: makespan.rows, dispatch: dispatch.rows, roundTrip: roundTrip.rows, channel: channel.rows, scale: scale?.rows, speedup: speedup?.rows, targets }, null, 2)}\n`,
);
await writeFile(
  `${outDir}/${stamp}-${mode}.md`,
  `# agentpool benchmarks (${mode})\n\n${JSON.stringify(machine)}\n\n${report.join('\n\n')}\n`,
);
await writeFile(`${outDir}/makespan-${mode}.svg`, chart);
log(`Wrote ${outDir}/${stamp}-${mode}.{json,md} and makespan-${mode}.svg`);
