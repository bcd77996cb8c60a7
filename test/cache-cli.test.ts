import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const marker = join(root, 'test/fixtures/marker.js');
const made: string[] = [];

afterAll(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

interface Outcome {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI with `$AGENTPOOL_MARKERS` set; with `killAfterDone`, sends
 * SIGKILL once that many `done` events (ndjson) have been printed.
 */
function agentpool(args: string[], markers: string, killAfterDone?: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: root,
      env: { ...process.env, AGENTPOOL_MARKERS: markers },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => {
      stdout += data;
      if (
        killAfterDone !== undefined &&
        (stdout.match(/"type":"done"/g)?.length ?? 0) >= killAfterDone
      )
        child.kill('SIGKILL');
    });
    child.stderr.on('data', (data: Buffer) => {
      stderr += data;
    });
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function executions(markers: string, id: string): number {
  const file = join(markers, `${id}.runs`);
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
}

/** A project folder: a DAG file using the marker agent, and a markers folder. */
async function project(
  tasks: string,
  context = 'sleepMs: 0',
): Promise<{ dag: string; dir: string; markers: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'agentpool-cache-cli-'));
  made.push(dir);
  const markers = join(dir, 'markers');
  await mkdir(markers);
  const dag = join(dir, 'dag.yaml');
  await writeFile(
    dag,
    `agents:\n  m: ${JSON.stringify(marker)}\ncontext:\n  ${context}\ntasks:\n${tasks}`,
  );
  return { dag, dir, markers };
}

// 4 chains of 6: c<k>_0 -> c<k>_1 -> ... -> c<k>_5.
const chains = Array.from({ length: 4 }, (_, k) =>
  Array.from(
    { length: 6 },
    (_, j) =>
      `  c${k}_${j}: { agent: m, prompt: "c${k}_${j}"${j > 0 ? `, depends_on: [c${k}_${j - 1}]` : ''} }\n`,
  ).join(''),
).join('');
const chainIds = Array.from({ length: 4 }, (_, k) =>
  Array.from({ length: 6 }, (_, j) => `c${k}_${j}`),
).flat();

// Many CLI processes one after another: on a loaded 2-core machine one test takes up to a minute.
describe('agentpool run with the cache', { timeout: 120_000 }, () => {
  it('after a kill -9, a re-run redoes only what had not finished, and its results are right', async () => {
    const { dag, markers } = await project(chains, 'sleepMs: 40');
    const killed = await agentpool(
      ['run', dag, '--threads', '2', '--format', 'ndjson'],
      markers,
      7,
    );
    expect(killed.signal).toBe('SIGKILL');
    const printed = killed.stdout
      .split('\n')
      .filter((line) => line.includes('"type":"done"'))
      .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(printed.length).toBeGreaterThanOrEqual(7);
    expect(printed.length).toBeLessThan(chainIds.length);

    const again = await agentpool(
      ['run', dag, '--threads', '2', '--out', join(markers, '..', 'out.json')],
      markers,
    );
    expect(again.code).toBe(0);
    // Every task whose done the killed run printed was not executed again.
    for (const id of printed) expect(executions(markers, id)).toBe(1);
    for (const id of chainIds) expect(executions(markers, id)).toBeGreaterThanOrEqual(1);
    expect(again.stdout).toContain(`${printed.length} of 24 tasks came from the cache`);
    expect(again.stdout).toMatch(
      new RegExp(`24/24 done \\(${printed.length} from cache, [\\d.]+ s saved\\)`),
    );
    const run = JSON.parse(readFileSync(join(markers, '..', 'out.json'), 'utf8'));
    expect(run.tasks.c2_5.output).toEqual({ text: 'c2_5', deps: ['c2_4'] });
    expect(run.fromCache).toBe(printed.length);
  });

  it('two runs of one DAG on one store at once both finish, and then everything is cached', async () => {
    const { dag, markers } = await project(chains, 'sleepMs: 5');
    const [one, two] = await Promise.all([
      agentpool(['run', dag, '--threads', '1'], markers),
      agentpool(['run', dag, '--threads', '1'], markers),
    ]);
    expect([one.code, two.code, one.stderr, two.stderr]).toEqual([0, 0, '', '']);
    const counts = chainIds.map((id) => executions(markers, id));
    const third = await agentpool(['run', dag, '--format', 'json'], markers);
    expect(third.code).toBe(0);
    expect(JSON.parse(third.stdout).fromCache).toBe(24);
    expect(third.stderr).toContain('24 of 24 tasks came from the cache');
    expect(chainIds.map((id) => executions(markers, id))).toEqual(counts);
  });

  it('--no-cache, --rerun and --cache-dir', async () => {
    const { dag, dir, markers } = await project(
      '  a: { agent: m, prompt: A }\n  b: { agent: m, prompt: B, depends_on: [a] }\n  c: { agent: m, prompt: C }\n',
    );
    const count = () => ['a', 'b', 'c'].map((id) => executions(markers, id));
    expect((await agentpool(['run', dag], markers)).code).toBe(0);
    // The default store, next to the DAG file, ignored by git.
    expect(readFileSync(join(dir, '.agentpool', '.gitignore'), 'utf8')).toContain('*');
    expect((await agentpool(['run', dag], markers)).stdout).toMatch(/from cache/);
    expect(count()).toEqual([1, 1, 1]);
    await agentpool(['run', dag, '--no-cache'], markers);
    expect(count()).toEqual([2, 2, 2]);
    const rerun = await agentpool(['run', dag, '--rerun', 'a'], markers);
    expect(count()).toEqual([3, 3, 2]);
    expect(rerun.stdout).toContain('1 of 3 tasks came from the cache');
    const elsewhere = join(dir, 'elsewhere');
    await agentpool(['run', dag, '--cache-dir', elsewhere], markers);
    expect(count()).toEqual([4, 4, 3]);
    expect(existsSync(join(elsewhere, 'cache.sqlite'))).toBe(true);

    const typo = await agentpool(['run', dag, '--rerun', 'zz*'], markers);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('"zz*"');
    const both = await agentpool(['run', dag, '--rerun', 'a', '--no-cache'], markers);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--rerun');
  });

  it('agentpool cache stats, prune and clear', async () => {
    const { dag, markers } = await project(
      '  a: { agent: m, prompt: A }\n  b: { agent: m, prompt: B }\n',
    );
    await agentpool(['run', dag], markers);
    await agentpool(['run', dag], markers);
    const stats = await agentpool(['cache', 'stats', dag], markers);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/entries\s+2\n/);
    expect(stats.stdout).toMatch(/2\/2 hits \(100%\)/);
    expect(stats.stdout).toMatch(/0\/2 hits \(0%\)/);
    const keep = await agentpool(['cache', 'prune', dag, '--older-than', '7d'], markers);
    expect(keep.stdout).toContain('removed 0 entries');
    const shrink = await agentpool(['cache', 'prune', dag, '--max-size', '0'], markers);
    expect(shrink.stdout).toMatch(/removed 2 entries .*; 0 left/);
    await agentpool(['run', dag], markers);
    const clear = await agentpool(['cache', 'clear', dag], markers);
    expect(clear.stdout).toContain('removed 2 entries');
    expect((await agentpool(['cache', 'prune', dag], markers)).code).toBe(2);
    const bad = await agentpool(['cache', 'prune', dag, '--older-than', 'soon'], markers);
    expect(bad.code).toBe(2);
  });
});
