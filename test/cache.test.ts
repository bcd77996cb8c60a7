import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createRuntime,
  type DagInput,
  type ExecuteOptions,
  type RunResult,
  type RuntimeOptions,
  SqliteStore,
  type TaskEvent,
} from 'agentpool';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { expectStatus, fixture } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const made: string[] = [];

async function tempDir(parent = tmpdir()): Promise<string> {
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(join(parent, 'agentpool-cache-'));
  made.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

/** How many times task `id` executed, by the marker lines the `marker` fixture appends. */
function executions(markers: string, id: string): number {
  const file = join(markers, `${id}.runs`);
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
}

interface Setup {
  dir: string;
  markers: string;
  run(
    dag: DagInput,
    options?: ExecuteOptions,
    runtime?: RuntimeOptions,
  ): Promise<{ result: RunResult; events: TaskEvent[]; liveThreads: number }>;
  counts(ids: string[]): Record<string, number>;
}

async function setup(): Promise<Setup> {
  const dir = await tempDir();
  const markers = join(dir, 'markers');
  await mkdir(markers);
  return {
    dir,
    markers,
    async run(dag, options = {}, runtime = {}) {
      const rt = createRuntime({
        threads: 1,
        cache: { dir: join(dir, 'store') },
        agents: { m: fixture('marker') },
        ...runtime,
      });
      const events: TaskEvent[] = [];
      rt.on('task', (event) => {
        events.push(event);
      });
      try {
        const result = await rt.execute(dag, { context: { markers }, ...options });
        return { result, events, liveThreads: rt.stats().liveThreads };
      } finally {
        await rt.close();
      }
    },
    counts(ids) {
      return Object.fromEntries(ids.map((id) => [id, executions(markers, id)]));
    },
  };
}

// a -> b -> c, a -> e, and d alone.
const dag = (prompts: Partial<Record<'a' | 'b' | 'c' | 'd' | 'e', string>> = {}): DagInput => ({
  a: { agent: 'm', prompt: prompts.a ?? 'A' },
  b: { agent: 'm', prompt: prompts.b ?? 'B', depends_on: ['a'] },
  c: { agent: 'm', prompt: prompts.c ?? 'C', depends_on: ['b'] },
  d: { agent: 'm', prompt: prompts.d ?? 'D' },
  e: { agent: 'm', prompt: prompts.e ?? 'E', depends_on: ['a'] },
});
const ids = ['a', 'b', 'c', 'd', 'e'];

/** Collects the cache's warnings while `body` runs. */
async function warningsDuring(body: () => Promise<unknown>): Promise<string[]> {
  const warnings: string[] = [];
  const listener = (warning: Error & { code?: string }) => {
    if (warning.code === 'AGENTPOOL_CACHE') warnings.push(warning.message);
  };
  process.on('warning', listener);
  try {
    await body();
    // emitWarning delivers on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', listener);
  }
  return warnings;
}

describe('task cache', { timeout: 120_000 }, () => {
  it('a re-run takes every result from the cache: done, cached, attempts 0, no thread, a cached event, no worker thread started', async () => {
    const s = await setup();
    const first = await s.run(dag(), {}, { threads: 2 });
    expect(first.result.done).toBe(5);
    expect(first.result.fromCache).toBe(0);
    const second = await s.run(dag(), {}, { threads: 2 });
    expect(s.counts(ids)).toEqual({ a: 1, b: 1, c: 1, d: 1, e: 1 });
    expect(second.liveThreads).toBe(0);
    expect(second.result).toMatchObject({ total: 5, done: 5, fromCache: 5 });
    for (const id of ids) {
      const hit = expectStatus(second.result.tasks[id], 'done');
      const original = expectStatus(first.result.tasks[id], 'done');
      expect(hit).toMatchObject({
        cached: true,
        attempts: 0,
        threadId: null,
        startedAt: null,
        tokens: 0,
        durationMs: 0,
      });
      expect(hit.output).toEqual(original.output);
      expect(hit.cachedFrom).toMatchObject({
        runId: first.result.runId,
        durationMs: original.durationMs,
      });
      // A hit's events: `cached`, then `done`; it is never queued or started.
      expect(second.events.filter((e) => e.id === id).map((e) => e.type)).toEqual([
        'cached',
        'done',
      ]);
    }
    expect(second.result.saved.durationMs).toBeCloseTo(
      ids.reduce((sum, id) => sum + (first.result.tasks[id]?.durationMs ?? 0), 0),
    );
  });

  it('writes each result to the store before its done event, so before any dependent starts', async () => {
    const s = await setup();
    const store = join(s.dir, 'store');
    const seen: number[] = [];
    let done = 0;
    const rt = createRuntime({
      threads: 1,
      cache: { dir: store },
      agents: { m: fixture('marker') },
    });
    rt.on('task', (event) => {
      if (event.type !== 'done') return;
      done++;
      // Another connection, as another process would read it.
      const reader = new SqliteStore(store);
      seen.push(reader.stats().entries - done);
      reader.close();
    });
    await rt.execute(dag(), { context: { markers: s.markers } });
    await rt.close();
    expect(seen).toEqual([0, 0, 0, 0, 0]);
  });

  it('a changed prompt re-runs exactly that task and what depends on it', async () => {
    const s = await setup();
    await s.run(dag());
    const { result } = await s.run(dag({ b: 'B2' }));
    expect(s.counts(ids)).toEqual({ a: 1, b: 2, c: 2, d: 1, e: 1 });
    expect(result.fromCache).toBe(3);
    expect(expectStatus(result.tasks.c, 'done').output).toEqual({ text: 'C', deps: ['B2'] });
  });

  it('an upstream re-run that produces the same output does not re-run what depends on it', async () => {
    const s = await setup();
    await s.run(dag());
    // The marker agent trims its prompt: a new key for a, the same output.
    const { result } = await s.run(dag({ a: '  A  ' }));
    expect(s.counts(ids)).toEqual({ a: 2, b: 1, c: 1, d: 1, e: 1 });
    expect(expectStatus(result.tasks.a, 'done').cached).toBeUndefined();
    expect(expectStatus(result.tasks.b, 'done').cached).toBe(true);
  });

  it('a changed agent module re-runs its tasks, and a version bump does too; other agents stay cached', async () => {
    const s = await setup();
    // Under test/ so that it resolves `agentpool/agent`.
    const modules = await tempDir(join(root, 'test/.scratch'));
    const agent = join(modules, 'agent.js');
    const write = (body: string) =>
      writeFile(
        agent,
        `import { defineAgent } from 'agentpool/agent';\nimport { appendFileSync } from 'node:fs';\n${body}\n`,
      );
    const handler =
      "(prompt, ctx) => { appendFileSync(ctx.context.markers + '/' + ctx.taskId + '.runs', 'x\\n'); return prompt; }";
    await write(`export default defineAgent(${handler});`);
    const two: DagInput = {
      mine: { agent: 'v', prompt: 'P' },
      other: { agent: 'm', prompt: 'O' },
    };
    const runtime = { agents: { v: agent, m: fixture('marker') } };
    const count = () => s.counts(['mine', 'other']);
    await s.run(two, {}, runtime);
    await s.run(two, {}, runtime);
    expect(count()).toEqual({ mine: 1, other: 1 });
    await write(`// edited\nexport default defineAgent(${handler});`);
    await s.run(two, {}, runtime);
    expect(count()).toEqual({ mine: 2, other: 1 });
    await write(`// edited\nexport default defineAgent(${handler}, { version: '2' });`);
    const bumped = await s.run(two, {}, runtime);
    expect(count()).toEqual({ mine: 3, other: 1 });
    expect(expectStatus(bumped.result.tasks.other, 'done').cached).toBe(true);
    // The registration's version, which no source file shows, is in the key too.
    const registered = {
      agents: { v: { module: agent, version: 'model-b' }, m: fixture('marker') },
    };
    await s.run(two, {}, registered);
    await s.run(two, {}, registered);
    expect(count()).toEqual({ mine: 4, other: 1 });
  });

  it('cache: false on a run, an agent or a task neither reads nor writes the cache', async () => {
    const s = await setup();
    await s.run(dag(), { cache: false });
    await s.run(dag(), { cache: false });
    expect(s.counts(ids)).toEqual({ a: 2, b: 2, c: 2, d: 2, e: 2 });
    // Nothing was written: the next run executes everything once more.
    await s.run(dag());
    expect(s.counts(ids)).toEqual({ a: 3, b: 3, c: 3, d: 3, e: 3 });

    const optedOut = { ...dag(), d: { agent: 'm', prompt: 'D', cache: false } };
    await s.run(optedOut);
    await s.run(optedOut);
    expect(s.counts(ids)).toEqual({ a: 3, b: 3, c: 3, d: 5, e: 3 });

    const agentOff = { agents: { m: { module: fixture('marker'), cache: false } } };
    await s.run(dag(), {}, agentOff);
    expect(s.counts(ids)).toEqual({ a: 4, b: 4, c: 4, d: 6, e: 4 });
  });

  it('rerun ignores the cache for the tasks it names (ids or globs) and everything depending on them', async () => {
    const s = await setup();
    await s.run(dag());
    const { result } = await s.run(dag(), { cache: { rerun: ['b'] } });
    expect(s.counts(ids)).toEqual({ a: 1, b: 2, c: 2, d: 1, e: 1 });
    expect(result.fromCache).toBe(3);
    await s.run(dag(), { cache: { rerun: ['d*'] } });
    expect(s.counts(ids)).toEqual({ a: 1, b: 2, c: 2, d: 2, e: 1 });
    await expect(s.run(dag(), { cache: { rerun: ['nope*'] } })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
      message: expect.stringContaining('"nope*"'),
    });
  });

  it('rejects cache options a runtime without a cache cannot honour', async () => {
    const rt = createRuntime({ threads: 0, agents: { m: fixture('marker') } });
    await expect(rt.execute(dag(), { cache: { rerun: ['a'] } })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
      message: expect.stringContaining('no cache'),
    });
    // false is always fine.
    expect((await rt.execute({ a: { agent: 'm' } }, { cache: false })).done).toBe(1);
    await rt.close();
  });

  it('a damaged entry is a miss with a warning, and is written afresh', async () => {
    const s = await setup();
    await s.run(dag());
    const db = new Database(join(s.dir, 'store', 'cache.sqlite'));
    // Bytes that no longer match their checksum (a torn page, a bad disk) ...
    db.prepare("UPDATE entries SET output = X'deadbeef' WHERE task_id = 'b'").run();
    // ... and bytes that match it but are no serialized value.
    const row = db.prepare("SELECT output FROM entries WHERE task_id = 'd'").get() as {
      output: Buffer;
    };
    expect(row.output.length).toBeGreaterThan(0);
    const { createHash } = await import('node:crypto');
    const junk = Buffer.from([0xff, 0x0f, 0x6f, 0x7b]);
    db.prepare("UPDATE entries SET output = ?, checksum = ? WHERE task_id = 'd'").run(
      junk,
      createHash('sha256').update(junk).digest('base64url'),
    );
    db.close();
    let second: Awaited<ReturnType<Setup['run']>> | undefined;
    const warnings = await warningsDuring(async () => {
      second = await s.run(dag());
    });
    expect(second?.result.done).toBe(5);
    expect(warnings.sort()).toEqual([
      expect.stringMatching(/task "b": cached entry unreadable.*checksum/),
      expect.stringMatching(/task "d": cached entry unreadable/),
    ]);
    // b ran again; its output is the same, so c did not.
    expect(s.counts(ids)).toEqual({ a: 1, b: 2, c: 1, d: 2, e: 1 });
    await s.run(dag());
    expect(s.counts(ids)).toEqual({ a: 1, b: 2, c: 1, d: 2, e: 1 });
  });

  it('a store that cannot be opened is a warning: the run goes on uncached', async () => {
    const s = await setup();
    await mkdir(join(s.dir, 'store'));
    await writeFile(join(s.dir, 'store', 'cache.sqlite'), 'this is not a database, '.repeat(200));
    let outcome: Awaited<ReturnType<Setup['run']>> | undefined;
    const warnings = await warningsDuring(async () => {
      outcome = await s.run(dag());
    });
    expect(outcome?.result).toMatchObject({ done: 5, fromCache: 0 });
    expect(warnings).toEqual([expect.stringMatching(/cannot open the store.*running uncached/)]);
  });

  it('a run cancelled while the cache reads a new module’s version ends every task cancelled', async () => {
    const s = await setup();
    const controller = new AbortController();
    const pending = s.run(dag(), { signal: controller.signal });
    controller.abort();
    const { result } = await pending;
    expect(result).toMatchObject({ cancelled: 5, stoppedBy: 'signal' });
    expect(s.counts(ids)).toEqual({ a: 0, b: 0, c: 0, d: 0, e: 0 });
  });

  it('outputs of every structured-clone type come back from the cache as they were made', async () => {
    const s = await setup();
    const runtime = { agents: { t: fixture('clone-types') } };
    const one = { t: { agent: 't' } };
    const first = expectStatus((await s.run(one, {}, runtime)).result.tasks.t, 'done');
    const hit = expectStatus((await s.run(one, {}, runtime)).result.tasks.t, 'done');
    expect(hit.cached).toBe(true);
    expect(hit.output).toEqual(first.output);
    const out = hit.output as Record<string, unknown> & {
      self: unknown;
      nested: { a: unknown; b: unknown };
      floats: Float64Array;
      map: Map<unknown, unknown>;
      error: Error;
      sparse: unknown[];
      boxed: unknown[];
    };
    expect(out.self).toBe(out);
    expect(out.nested.a).toBe(out.nested.b);
    expect(out.big).toBe(-(2n ** 70n));
    expect(out.map.get(1n)).toEqual(new Date(86_400_000));
    expect(out.map.get('k')).toEqual(new Set([1, 'a']));
    expect(out.date).toEqual(new Date(Date.UTC(2026, 11, 1, 22, 0, 0, 5)));
    expect(out.regexp).toEqual(/a+b/giu);
    expect(out.bytes).toEqual(new Uint8Array([0, 1, 255]));
    expect(Object.is(out.floats[1], -0)).toBe(true);
    expect(Number.isNaN(out.floats[2])).toBe(true);
    expect(out.ints).toEqual(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]));
    expect(out.view).toBeInstanceOf(DataView);
    const view = out.view as DataView;
    expect([...new Uint8Array(view.buffer, view.byteOffset, view.byteLength)]).toEqual([8, 7]);
    expect(new Uint16Array(out.buffer as ArrayBuffer)).toEqual(new Uint16Array([65535, 1]));
    expect(out.error).toBeInstanceOf(RangeError);
    expect(out.error.message).toBe('out of range');
    expect(out.boxed[0]).toBeInstanceOf(String);
    expect(1 in out.sparse).toBe(false);
    expect(out.special).toEqual([undefined, null, -0, Number.NaN, '']);
  });
});
