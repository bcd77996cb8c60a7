import { execFile } from 'node:child_process';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { type BenchDag, levels, lowerBound, randomDag } from '../bench/lib/random-dag.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('benchmark harness', () => {
  // a (10 ms) -> b (20 ms); c (5 ms) on its own.
  const dag: BenchDag = { ids: ['a', 'b', 'c'], deps: [[], [0], []], durations: [10, 20, 5] };

  it('computes the lower bound as max(critical path, work / threads)', () => {
    expect(lowerBound(dag, 1)).toEqual({ criticalPathMs: 30, workMs: 35, boundMs: 35 });
    expect(lowerBound(dag, 2).boundMs).toBe(30);
    expect(lowerBound(dag, 16).boundMs).toBe(30);
    expect(levels(dag)).toEqual([[0, 2], [1]]);
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
