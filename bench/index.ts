/**
 * `npm run bench` (full), `npm run bench -- --quick` (under a minute on 2
 * cores), and `--smoke` (seconds; what the test suite runs). Prints a
 * markdown report and writes it, with the raw numbers and a chart, to
 * bench/results/ (or `--out-dir DIR`). Sizes per mode: bench/lib/modes.ts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { lineChart } from './lib/chart.js';
import { type Mode, settings } from './lib/modes.js';
import { targets, targetsMarkdown } from './lib/targets.js';
import { cacheScenario, cacheSettings } from './scenarios/cache.js';
import { channelScenario } from './scenarios/channel.js';
import { dispatchScenario } from './scenarios/dispatch.js';
import { makespanScenario, SCHEDULERS } from './scenarios/makespan.js';
import { roundTripScenario } from './scenarios/round-trip.js';
import { scaleScenario } from './scenarios/scale.js';
import { speedupScenario } from './scenarios/speedup.js';

const started = performance.now();
const args = process.argv.slice(2);
const mode: Mode = args.includes('--smoke') ? 'smoke' : args.includes('--quick') ? 'quick' : 'full';
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
const sizes = settings(mode, cores);
const title = `# agentpool benchmarks (${mode})\n\n${machine.cpu}, ${cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}`;
const log = (text: string) => process.stdout.write(`${text}\n\n`);
log(title);

// Each section's own wall time, so a slow mode shows where its time goes.
const sectionSeconds: Record<string, number> = {};
async function section<T extends { markdown: string }>(name: string, run: () => Promise<T>) {
  const start = performance.now();
  const result = await run();
  sectionSeconds[name] = (performance.now() - start) / 1000;
  log(result.markdown);
  return result;
}
const makespan = await section('makespan', () => makespanScenario(sizes.makespan));
const dispatch = await section('dispatch', () =>
  dispatchScenario({ threads: cores, ...sizes.dispatch }),
);
const roundTrip = await section('round trip', () =>
  roundTripScenario({ threads: cores, ...sizes.roundTrip }),
);
const channel = await section('channel', () =>
  channelScenario({ threads: cores, ...sizes.channel }),
);
// Speedup before scale: its main-thread baseline must not inherit the heap a 1M-task plan leaves.
const speedup = await section('speedup', () => speedupScenario({ cores, ...sizes.speedup }));
const scale = await section('scale', () => scaleScenario({ threads: cores, ...sizes.scale }));
const cache = await section('cache', () =>
  cacheScenario({ threads: cores, ...cacheSettings(mode) }),
);

const checked = targets({
  cores,
  makespan: makespan.rows,
  dispatch: dispatch.rows,
  speedup: speedup.rows,
  scale: scale.rows,
});
const targetTable = targetsMarkdown(checked);
log(targetTable);
const wallSeconds = (performance.now() - started) / 1000;
const wall = `Harness wall time: ${wallSeconds.toFixed(1)} s (${Object.entries(sectionSeconds)
  .map(([name, s]) => `${name} ${s.toFixed(1)}`)
  .join(', ')}; after the build, which \`npm run bench\` runs first).`;
log(wall);

const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const threadCounts = sizes.makespan.threads;
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
const sections = [makespan, dispatch, roundTrip, channel, speedup, scale, cache].map(
  (s) => s.markdown,
);
const json = {
  mode,
  machine,
  settings: sizes,
  wallSeconds,
  sectionSeconds,
  makespan: makespan.rows,
  dispatch: dispatch.rows,
  roundTrip: roundTrip.rows,
  channel: channel.rows,
  speedup: speedup.rows,
  scale: scale.rows,
  cache: cache.rows,
  targets: checked,
};
await writeFile(`${outDir}/${stamp}-${mode}.json`, `${JSON.stringify(json, null, 2)}\n`);
await writeFile(
  `${outDir}/${stamp}-${mode}.md`,
  `${title}\n\n${sections.join('\n\n')}\n\n${targetTable}\n\n${wall}\n`,
);
await writeFile(`${outDir}/makespan-${mode}.svg`, chart);
log(`Wrote ${outDir}/${stamp}-${mode}.{json,md} and makespan-${mode}.svg`);
