import { execFile } from 'node:child_process';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { type BenchDag, levels, lowerBound, randomDag } from '../bench/lib/random-dag.js';
import { ratioPerRound } from '../bench/lib/rounds.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** What a level-by-level executor with unlimited threads needs: the sum of each level's longest task. */
const levelBound = (dag: BenchDag) =>
  levels(dag).reduce(
    (sum, level) => sum + Math.max(...level.map((i) => dag.durations[i] as number)),
    0,
  );

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

  it('runs end to end at smoke size and writes its report', async () => {
    const out = await mkdtemp(join(tmpdir(), 'agentpool-bench-'));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', join(root, 'dist/bench/index.js'), '--smoke', '--out-dir', out],
      {
        cwd: root,
        timeout: 120_000,
      },
    );
    expect(stdout).toContain('### Makespan / lower bound');
    expect(stdout).toContain('level barrier (reference)');
    expect(stdout).toContain('### Dispatch');
    expect(stdout).toContain('poolifier');
    expect(stdout).toContain('### Targets');
    const files = await readdir(out);
    expect(files.some((f) => f.endsWith('-smoke.json'))).toBe(true);
    expect(files).toContain('makespan-smoke.svg');
  }, 150_000);
});
