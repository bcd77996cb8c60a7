import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateDag } from 'agentpool';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { readDagFile } from '../src/cli/dag-file.js';

/** A DAG file of `n` chained tasks, as YAML. */
function yamlDag(n: number): string {
  const tasks: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    tasks[`task_${i}`] = {
      agent: 'echo',
      prompt: `prompt ${i}`,
      depends_on: i === 0 ? [] : [`task_${i - 1}`],
    };
  }
  return stringify({ agents: { echo: './echo.js' }, tasks });
}

/** What `agentpool validate` does with a file: read, parse, check the document and the DAG. */
async function validateFile(path: string): Promise<number> {
  // CPU time, not wall time: a loaded machine taking the core away weighs on neither.
  const start = process.cpuUsage();
  const { dag, problems } = await readDagFile(path);
  expect(problems).toEqual([]);
  validateDag(dag.tasks as Parameters<typeof validateDag>[0]);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

describe('validate is proportional to the file', () => {
  // yaml's `uniqueKeys` compared each key with every earlier one of its map:
  // a 5 MB file took 22 s, a 50 MB one minutes. Measured side by side, in
  // turns, best of four, so load on the machine weighs on both alike.
  it('4x the tasks takes under 6x the time', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentpool-validate-'));
    const small = join(dir, 'small.yaml');
    const large = join(dir, 'large.yaml');
    await writeFile(small, yamlDag(2_000));
    await writeFile(large, yamlDag(8_000));
    await validateFile(small); // warm up the parser and the schema
    let smallMs = Number.POSITIVE_INFINITY;
    let largeMs = Number.POSITIVE_INFINITY;
    for (let k = 0; k < 4; k++) {
      smallMs = Math.min(smallMs, await validateFile(small));
      largeMs = Math.min(largeMs, await validateFile(large));
    }
    console.log(`validate: 4x the tasks took ${(largeMs / smallMs).toFixed(2)}x the CPU time`);
    expect(largeMs / smallMs).toBeLessThan(6);
  }, 120_000);
});
