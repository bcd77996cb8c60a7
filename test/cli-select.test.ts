import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentpool, root } from './cli-helpers.js';

const marker = join(root, 'test/fixtures/marker.js');

/** a -> b -> c, a -> d, and e on its own; marker.js counts each task's executions in `markers`. */
async function project() {
  const dir = await mkdtemp(join(tmpdir(), 'agentpool-select-'));
  const markers = join(dir, 'markers');
  await mkdir(markers);
  const file = join(dir, 'dag.yaml');
  await writeFile(
    file,
    [
      `agents: { mark: ${JSON.stringify(marker)} }`,
      `context: { markers: ${JSON.stringify(markers)} }`,
      'tasks:',
      '  a: { agent: mark, prompt: a }',
      '  b: { agent: mark, prompt: b, depends_on: [a] }',
      '  c: { agent: mark, prompt: c, depends_on: [b] }',
      '  d: { agent: mark, prompt: d, depends_on: [a] }',
      '  e: { agent: mark, prompt: e }',
      '',
    ].join('\n'),
  );
  const runs = () =>
    Object.fromEntries(
      ['a', 'b', 'c', 'd', 'e'].map((id) => {
        const path = join(markers, `${id}.runs`);
        return [id, existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n').length : 0];
      }),
    );
  return { dir, file, runs, cacheDir: join(dir, 'cache') };
}

describe('subgraph selection', { timeout: 120_000 }, () => {
  it('--only runs those tasks (ids or globs) and what they need, nothing else', async () => {
    const { file, runs } = await project();
    const only = await agentpool(['run', file, '--only', 'c', '--format', 'json']);
    expect(only.stderr).toBe('');
    expect(only.code).toBe(0);
    expect(Object.keys(JSON.parse(only.stdout).tasks).sort()).toEqual(['a', 'b', 'c']);
    expect(runs()).toEqual({ a: 1, b: 1, c: 1, d: 0, e: 0 });
    const globs = await agentpool([
      'run',
      file,
      '--only',
      '[de]',
      '--only',
      'd*',
      '--format',
      'json',
    ]);
    expect(globs.code).toBe(2);
    expect(globs.stderr).toBe('agentpool: --only [de]: no task matches it\n');
    const glob = await agentpool(['run', file, '--only', 'd*', '--only', 'e', '--format', 'json']);
    expect(Object.keys(JSON.parse(glob.stdout).tasks).sort()).toEqual(['a', 'd', 'e']);
  });

  it('--from runs it and everything downstream afresh; what they need comes from the cache, else runs', async () => {
    const { file, runs, cacheDir } = await project();
    const cached = { cache: true };
    const first = await agentpool(
      ['run', file, '--cache-dir', cacheDir, '--format', 'json'],
      cached,
    );
    expect(first.code).toBe(0);
    expect(runs()).toEqual({ a: 1, b: 1, c: 1, d: 1, e: 1 });
    const from = await agentpool(
      ['run', file, '--cache-dir', cacheDir, '--from', 'b', '--format', 'json'],
      cached,
    );
    expect(from.code).toBe(0);
    const result = JSON.parse(from.stdout);
    expect(Object.keys(result.tasks).sort()).toEqual(['a', 'b', 'c']);
    expect(result.tasks.a.cached).toBe(true);
    expect(result.fromCache).toBe(1);
    // b and c ran again though cached; a came from the cache; d and e were left out.
    expect(runs()).toEqual({ a: 1, b: 2, c: 2, d: 1, e: 1 });
    const noCache = await agentpool(['run', file, '--from', 'b', '--format', 'json']);
    expect(noCache.code).toBe(0);
    expect(runs()).toEqual({ a: 2, b: 3, c: 3, d: 1, e: 1 });
    const both = await agentpool(['run', file, '--from', 'b', '--only', 'c']);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('agentpool: --only and --from: give one or the other\n');
  });

  it('--dry-run checks the file, prints the dispatch order by rank and the critical path, runs nothing', async () => {
    const { dir, file, runs } = await project();
    const dry = await agentpool(['run', file, '--dry-run', '--threads', '1'], { cache: true });
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    const lines = dry.stdout.trim().split('\n');
    expect(lines[0]).toBe(`${file}: ok, 5 tasks; nothing run (--dry-run)`);
    expect(lines[1]).toContain('on 1 thread):');
    // Highest rank first among ready tasks: a (heads a -> b -> c), then b; then c, d, e, all rank 1, in file order.
    const order = lines.slice(2, 7).map((line) => line.trim().split(/\s+/)[1]);
    expect(order).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(lines[2]).toMatch(/^\s*1\s+a\s+mark\s+rank 3$/);
    expect(lines[7]).toBe('Critical path (3 tasks, by task count: no cost hints): a -> b -> c');
    expect(runs()).toEqual({ a: 0, b: 0, c: 0, d: 0, e: 0 });
    // Not even a cache folder.
    expect(existsSync(join(dir, '.agentpool'))).toBe(false);
    const selected = await agentpool(['run', file, '--dry-run', '--only', 'd']);
    expect(selected.stdout).toContain('ok, 2 of 5 tasks selected');
    // A dry run loads the agent modules, as validate does.
    await writeFile(join(dir, 'broken.js'), 'export default 5;\n');
    await writeFile(file, 'agents: { bad: ./broken.js }\ntasks:\n  a: { agent: bad }\n');
    const bad = await agentpool(['run', file, '--dry-run']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('agents.bad: ERR_AGENT_LOAD');
  });
});
