/**
 * `npm run bench` (full), `npm run bench -- --quick` (under a minute on 2
 * cores), and `--smoke` (seconds; what the test suite runs). Prints a
 * markdown report and writes it, with the raw numbers and a chart, to
 * bench/results/ (or `--out-dir DIR`). Sizes per mode: bench/lib/modes.ts.
 * `--contended` (with any mode) runs only the ratio sections (short-task
 * makespan, dispatch, round trip) with a CPU hog keeping every core busy.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { lineChart } from './lib/chart.js';
import { startHog } from './lib/hog.js';
import { type Mode, settings } from './lib/modes.js';
import { redisInstalled } from './lib/redis-server.js';
import { targets, targetsMarkdown } from './lib/targets.js';
import { cacheScenario, cacheSettings } from './scenarios/cache.js';
import { channelScenario } from './scenarios/channel.js';
import { clusterScenario, clusterSizes, clusterTargets } from './scenarios/cluster.js';
import { dispatchScenario } from './scenarios/dispatch.js';
import { mainCpuScenario } from './scenarios/main-cpu.js';
import { makespanScenario, SCHEDULERS } from './scenarios/makespan.js';
import { roundTripScenario } from './scenarios/round-trip.js';
import { scaleScenario } from './scenarios/scale.js';
import { shortMakespanScenario } from './scenarios/short-makespan.js';
import { speedupScenario } from './scenarios/speedup.js';

const started = performance.now();
const args = process.argv.slice(2);
const mode: Mode = args.includes('--smoke') ? 'smoke' : args.includes('--quick') ? 'quick' : 'full';
const contended = args.includes('--contended');
const label = contended ? `${mode}-contended` : mode;
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
const hog = contended ? startHog(cores) : undefined;
const title = `# agentpool benchmarks (${label})\n\n${machine.cpu}, ${cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}${hog ? `\n\nContended: a CPU hog process (pid ${hog.pid}) keeps ${cores} threads spinning throughout.` : ''}`;
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
// `--contended` keeps the ratio sections; `--only a,b` (section names) any subset.
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? (args[onlyIndex + 1] as string).split(',') : undefined;
const RATIOS = ['short makespan', 'dispatch', 'round trip'];
const want = (name: string) => (only ? only.includes(name) : !contended || RATIOS.includes(name));
const maybe = <T extends { markdown: string }>(name: string, run: () => Promise<T>) =>
  want(name) ? section(name, run) : Promise.resolve(undefined);
const makespan = await maybe('makespan', () => makespanScenario(sizes.makespan));
const shortMakespan = await maybe('short makespan', () =>
  shortMakespanScenario(sizes.shortMakespan),
);
const dispatch = await maybe('dispatch', () =>
  dispatchScenario({ threads: cores, ...sizes.dispatch }),
);
const roundTrip = await maybe('round trip', () =>
  roundTripScenario({ threads: cores, ...sizes.roundTrip }),
);
const mainCpu = await maybe('main cpu', () =>
  mainCpuScenario({ threads: cores, ...sizes.mainCpu }),
);
const channel = await maybe('channel', () => channelScenario({ threads: cores, ...sizes.channel }));
// Speedup before scale: its main-thread baseline must not inherit the heap a 1M-task plan leaves.
const speedup = await maybe('speedup', () => speedupScenario({ cores, ...sizes.speedup }));
const scale = await maybe('scale', () => scaleScenario({ threads: cores, ...sizes.scale }));
const cache = await maybe('cache', () => cacheScenario({ threads: cores, ...cacheSettings(mode) }));
// Worker processes and a Redis of its own: not at smoke size (the cluster
// tests cover the path), and only where Debian's redis-server is installed.
const clusterWanted = want('cluster') && mode !== 'smoke';
if (clusterWanted && !redisInstalled())
  log('Cluster section skipped: redis-server is not installed.');
const cluster =
  clusterWanted && redisInstalled()
    ? await section('cluster', () => clusterScenario(clusterSizes(mode)))
    : undefined;
await hog?.stop();

const checked = [
  ...targets({
    cores,
    makespan: makespan?.rows,
    shortMakespan: shortMakespan?.rows,
    dispatch: dispatch?.rows,
    roundTrip: roundTrip?.rows,
    mainCpu: mainCpu?.rows,
    speedup: speedup?.rows,
    scale: scale?.rows,
  }),
  ...(cluster ? clusterTargets(cluster.result) : []),
];
const targetTable = targetsMarkdown(checked);
log(targetTable);
const wallSeconds = (performance.now() - started) / 1000;
const wall = `Harness wall time: ${wallSeconds.toFixed(1)} s (${Object.entries(sectionSeconds)
  .map(([name, s]) => `${name} ${s.toFixed(1)}`)
  .join(', ')}; after the build, which \`npm run bench\` runs first).`;
log(wall);

const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const threadCounts = sizes.makespan.threads;
const chart =
  makespan &&
  lineChart({
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
const sections = [
  makespan,
  shortMakespan,
  dispatch,
  roundTrip,
  mainCpu,
  channel,
  speedup,
  scale,
  cache,
  cluster,
].flatMap((s) => (s ? [s.markdown] : []));
const json = {
  mode,
  contended,
  machine,
  settings: sizes,
  wallSeconds,
  sectionSeconds,
  makespan: makespan?.rows,
  shortMakespan: shortMakespan?.rows,
  dispatch: dispatch?.rows,
  roundTrip: roundTrip?.rows,
  mainCpu: mainCpu?.rows,
  channel: channel?.rows,
  speedup: speedup?.rows,
  scale: scale?.rows,
  cache: cache?.rows,
  cluster: cluster?.result,
  targets: checked,
};
await writeFile(`${outDir}/${stamp}-${label}.json`, `${JSON.stringify(json, null, 2)}\n`);
await writeFile(
  `${outDir}/${stamp}-${label}.md`,
  `${title}\n\n${sections.join('\n\n')}\n\n${targetTable}\n\n${wall}\n`,
);
if (chart) await writeFile(`${outDir}/makespan-${mode}.svg`, chart);
log(`Wrote ${outDir}/${stamp}-${label}.{json,md}${chart ? ` and makespan-${mode}.svg` : ''}`);
