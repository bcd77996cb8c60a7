import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  BATCHES,
  batchName,
  CHAIN_FREE_DAG,
  DEFAULT_FANOUT,
  PISCINA,
  PISCINA_WINDOW,
  POOLIFIER,
} from '../bench/lib/dispatch-contenders.js';
import { trueRanks } from '../bench/lib/list-scheduler.js';
import { type BenchDag, levels, lowerBound, randomDag } from '../bench/lib/random-dag.js';
import { ratioPerRound } from '../bench/lib/rounds.js';
import { shortTaskDag } from '../bench/lib/short-dag.js';
import { CPU_FANOUT, CPU_PISCINA } from '../bench/scenarios/main-cpu.js';
import { SCHEDULERS } from '../bench/scenarios/makespan.js';
import { IDEAL, SHORT_SCHEDULERS } from '../bench/scenarios/short-makespan.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** What a level-by-level executor with unlimited threads needs: the sum of each level's longest task. */
const levelBound = (dag: BenchDag) =>
  levels(dag).reduce(
    (sum, level) => sum + Math.max(...level.map((i) => dag.durations[i] as number)),
    0,
  );

interface Summary {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

describe('benchmark harness', () => {
  // a (10 ms) -> b (20 ms); c (5 ms) on its own.
  const dag: BenchDag = { ids: ['a', 'b', 'c'], deps: [[], [0], []], durations: [10, 20, 5] };

  it('computes the lower bound as max(critical path, work / threads)', () => {
    expect(lowerBound(dag, 1)).toEqual({ criticalPathMs: 30, workMs: 35, boundMs: 35 });
    expect(lowerBound(dag, 2).boundMs).toBe(30);
    expect(lowerBound(dag, 16).boundMs).toBe(30);
    expect(levels(dag)).toEqual([[0, 2], [1]]);
  });

  it('follows the longest chain, not the sum of each level’s longest task', () => {
    // a (10) -> b (1) and c (1) -> d (10): levels [a, c], [b, d]. A level-by-level
    // bound adds 10 + 10; the longest chain is 11 either way.
    const crossed: BenchDag = {
      ids: ['a', 'b', 'c', 'd'],
      deps: [[], [0], [], [2]],
      durations: [10, 1, 1, 10],
    };
    expect(levels(crossed)).toEqual([
      [0, 2],
      [1, 3],
    ]);
    expect(levelBound(crossed)).toBe(20);
    expect(lowerBound(crossed, 16)).toEqual({ criticalPathMs: 11, workMs: 22, boundMs: 11 });
    expect(lowerBound(crossed, 2).boundMs).toBe(11);
  });

  it('is bound by work / threads when the threads are few', () => {
    // Six independent 10 ms tasks and one 3 ms task behind the first.
    const wide: BenchDag = {
      ids: ['t0', 't1', 't2', 't3', 't4', 't5', 't6'],
      deps: [[], [], [], [], [], [], [0]],
      durations: [10, 10, 10, 10, 10, 10, 3],
    };
    expect(lowerBound(wide, 2)).toEqual({ criticalPathMs: 13, workMs: 63, boundMs: 31.5 });
    expect(lowerBound(wide, 4).boundMs).toBe(15.75);
    expect(lowerBound(wide, 8).boundMs).toBe(13);
  });

  it('makes the same random DAG for the same seed, dependencies always earlier', () => {
    const one = randomDag({ tasks: 300, seed: 9 });
    expect(randomDag({ tasks: 300, seed: 9 })).toEqual(one);
    one.deps.forEach((deps, i) => {
      for (const d of deps) expect(d).toBeLessThan(i);
    });
    expect(Math.max(...one.durations)).toBeLessThanOrEqual(60);
    expect(Math.min(...one.durations)).toBeGreaterThanOrEqual(1);
  });

  it('ranks each task by its longest chain of known durations, its own included', () => {
    // a (10) -> b (20); c (5) alone; d (1) after a and c.
    const ranked: BenchDag = {
      ids: ['a', 'b', 'c', 'd'],
      deps: [[], [0], [], [0, 2]],
      durations: [10, 20, 5, 1],
    };
    expect([...trueRanks(ranked)]).toEqual([30, 20, 6, 1]);
  });

  it('makes short-task DAGs: 2–12 ms tasks and a tenth of 40–100 ms, edges at most 20 back', () => {
    const dag = shortTaskDag({ tasks: 3_000, seed: 1 });
    expect(shortTaskDag({ tasks: 3_000, seed: 1 })).toEqual(dag);
    const long = dag.durations.filter((ms) => ms >= 40);
    for (const ms of dag.durations)
      expect((ms >= 2 && ms <= 12) || (ms >= 40 && ms <= 100)).toBe(true);
    expect(long.length / dag.durations.length).toBeGreaterThan(0.07);
    expect(long.length / dag.durations.length).toBeLessThan(0.13);
    dag.deps.forEach((deps, i) => {
      for (const d of deps) {
        expect(d).toBeLessThan(i);
        expect(i - d).toBeLessThanOrEqual(20);
      }
    });
  });

  it('takes ratios within each round, not between medians', () => {
    // Per-round ratios 2, 1 and 3: their median is 2, where median(a) / median(b)
    // would say 30 / 10 = 3, pairing rounds that never ran together.
    const samples = new Map([
      ['a', [10, 40, 30]],
      ['b', [5, 40, 10]],
    ]);
    const ratio = ratioPerRound(samples, 'a', 'b');
    expect(ratio.samples).toEqual([2, 1, 3]);
    expect(ratio.median).toBe(2);
    expect([ratio.min, ratio.max]).toEqual([1, 3]);
  });

  it('runs end to end at smoke size and writes every scenario', async () => {
    const out = await mkdtemp(join(tmpdir(), 'agentpool-bench-'));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', join(root, 'dist/bench/index.js'), '--smoke', '--out-dir', out],
      { cwd: root, timeout: 150_000 },
    );
    for (const heading of [
      '### Makespan / lower bound',
      '### Short-task makespan',
      '### Dispatch',
      '### Single-task round trip',
      '### Main-thread CPU per task',
      '### Worker-to-host channel',
      '### Speedup',
      '### Scale',
      '### Task cache',
      '### Targets',
    ])
      expect(stdout).toContain(heading);

    const files = await readdir(out);
    const json = files.find((f) => f.endsWith('-smoke.json'));
    const md = files.find((f) => f.endsWith('-smoke.md'));
    expect(json).toBeDefined();
    expect(md).toBeDefined();
    expect(files).toContain('makespan-smoke.svg');
    const report = JSON.parse(await readFile(join(out, json as string), 'utf8'));
    const positive = (s: Summary) => {
      for (const x of [s.median, s.min, s.max, ...s.samples]) {
        expect(Number.isFinite(x)).toBe(true);
        expect(x).toBeGreaterThan(0);
      }
    };

    // Cache: both runs timed, and the fully cached re-run started no thread.
    const [cacheRow] = report.cache;
    positive(cacheRow.missRatio);
    positive(cacheRow.rerunMs);
    expect(cacheRow.rerunThreads).toBe(0);

    // Makespan: every scheduler at every thread count, and none beats the bound
    // (a ratio under 1 would mean the bound or the timing is wrong).
    const threads: number[] = report.settings.makespan.threads;
    for (const t of threads)
      for (const name of SCHEDULERS) {
        const row = report.makespan.find(
          (r: { threads: number; scheduler: string }) => r.threads === t && r.scheduler === name,
        );
        expect(row, `${name} at ${t} threads`).toBeDefined();
        expect(row.ratios).toHaveLength(report.settings.makespan.dags);
        for (const ratio of row.ratios) {
          expect(Number.isFinite(ratio)).toBe(true);
          expect(ratio).toBeGreaterThanOrEqual(0.98);
        }
      }

    // Short-task makespan: every scheduler at every thread count, a ratio per round.
    for (const t of report.settings.shortMakespan.threads)
      for (const name of SHORT_SCHEDULERS) {
        const row = report.shortMakespan.find(
          (r: { threads: number; scheduler: string }) => r.threads === t && r.scheduler === name,
        );
        expect(row, `${name} at ${t} threads`).toBeDefined();
        expect(row.vsIdeal.samples).toHaveLength(report.settings.shortMakespan.rounds);
        positive(row.vsIdeal);
        for (const ratio of row.vsBound.samples) expect(ratio).toBeGreaterThanOrEqual(0.98);
        if (name === IDEAL) expect(row.vsIdeal.median).toBe(1);
      }

    // Main-thread CPU: piscina and fanOut rows, main thread never more than the whole process.
    const cpuNames = report.mainCpu.map((r: { name: string }) => r.name);
    expect(cpuNames).toEqual(expect.arrayContaining([CPU_PISCINA, CPU_FANOUT]));
    for (const row of report.mainCpu) {
      positive(row.mainUs);
      expect(row.mainUs.median).toBeLessThanOrEqual(row.processUs.median);
    }

    // Dispatch: both piscina baselines, the chain-free DAG, batches and poolifier.
    const names = report.dispatch.map((r: { name: string }) => r.name);
    for (const name of [
      PISCINA,
      PISCINA_WINDOW,
      DEFAULT_FANOUT,
      CHAIN_FREE_DAG,
      POOLIFIER,
      ...BATCHES.map(batchName),
    ])
      expect(names).toContain(name);
    for (const row of report.dispatch) {
      expect(row.rate.samples).toHaveLength(report.settings.dispatch.rounds);
      for (const s of [row.rate, row.vsPiscina, row.vsPiscinaWindow]) positive(s);
    }

    for (const row of report.roundTrip) for (const s of [row.us, row.vsPiscina]) positive(s);

    expect(report.channel.map((r: { agent: string }) => r.agent)).toEqual([
      'noop',
      'chatty',
      'host-call',
    ]);
    for (const row of report.channel) for (const s of [row.us, row.vsQuiet]) positive(s);

    // Speedup: the kernel and the example, each with its main-thread row; the
    // example cold and warm at every thread count.
    for (const workload of ['prime kernel', 'examples/research']) {
      const rows = report.speedup.filter((r: { workload: string }) =>
        r.workload.startsWith(workload),
      );
      expect(rows.some((r: { threads: number }) => r.threads === 0)).toBe(true);
      for (const row of rows) {
        positive(row.ms);
        positive(row.vsMainThread);
        if (row.threads > 0) positive(row.vsOneThread);
      }
    }
    for (const t of report.settings.speedup.exampleCounts)
      for (const pool of ['cold', 'warm'])
        expect(
          report.speedup.some(
            (r: { workload: string; threads: number; pool: string }) =>
              r.workload.startsWith('examples/research') && r.threads === t && r.pool === pool,
          ),
        ).toBe(true);

    // Scale: every size planned; the run columns (inline and pool) up to the run limit.
    expect(report.scale.map((r: { tasks: number }) => r.tasks)).toEqual(
      report.settings.scale.sizes,
    );
    for (const row of report.scale) {
      positive(row.plan);
      if (row.tasks <= report.settings.scale.runLimit) {
        positive(row.inline);
        positive(row.pool);
      }
      for (const bytes of [row.planBytesPerTask, row.runBytesPerTask])
        if (bytes !== null) expect(bytes).toBeGreaterThan(0);
    }

    // Targets: the computed lines, including the batched fan-out against poolifier.
    const targets: string[] = report.targets.map((t: { target: string }) => t.target);
    expect(targets.some((t) => t.startsWith('makespan / lower bound'))).toBe(true);
    expect(targets.filter((t) => t.startsWith('dispatch ≥ 1.0× raw piscina'))).toHaveLength(2);
    expect(targets).toContain('a batched fan-out ≥ 2× the fastest pool (poolifier)');
    expect(targets.some((t) => t.startsWith('short-task DAGs: makespan'))).toBe(true);
    expect(targets.some((t) => t.startsWith('main-thread CPU'))).toBe(true);
    expect(targets.filter((t) => t.startsWith('one task at a time'))).toHaveLength(2);
    expect(targets.some((t) => t.startsWith('planning linear'))).toBe(true);
    for (const t of report.targets) expect(Number.isFinite(t.value)).toBe(true);

    const markdown = await readFile(join(out, md as string), 'utf8');
    expect(markdown).toContain('### Targets');
    expect(markdown).toContain('a batched fan-out ≥ 2× the fastest pool (poolifier)');
    expect(markdown).toContain('### Scale');
    expect(markdown).not.toMatch(/\| -\d/); // no negative figure in any cell
  }, 180_000);

  it('runs a section contended: a CPU hog is up throughout and gone afterwards', async () => {
    const out = await mkdtemp(join(tmpdir(), 'agentpool-bench-'));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        join(root, 'dist/bench/index.js'),
        '--smoke',
        '--contended',
        '--only',
        'round trip',
        '--out-dir',
        out,
      ],
      { cwd: root, timeout: 60_000 },
    );
    const pid = Number(/CPU hog process \(pid (\d+)\)/.exec(stdout)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(stdout).toContain('### Single-task round trip');
    expect(stdout).not.toContain('### Makespan / lower bound');
    const json = (await readdir(out)).find((f) => f.endsWith('-smoke-contended.json'));
    const report = JSON.parse(await readFile(join(out, json as string), 'utf8'));
    expect(report.contended).toBe(true);
    expect(report.roundTrip).toHaveLength(3);
    // The hog was killed with the harness: signalling its pid finds no process.
    expect(() => process.kill(pid, 0)).toThrow();
  }, 70_000);
});
